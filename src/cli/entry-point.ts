import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Whether the module at `moduleUrl` is the script node was started with (not an import). */
function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

/** A command line the script cannot run: every script exits 2 for it, and 1 when the work itself fails. */
export class UsageError extends Error {}

/**
 * Runs `main` with the command-line arguments when the module is the entry point, so the same
 * module stays importable by tests. Its result is the exit code; a throw prints `name: message`
 * and exits 2 for a UsageError, 1 for anything else.
 */
export function runIfEntryPoint(moduleUrl: string, name: string, main: (argv: string[]) => Promise<number>): void {
  if (!isEntryPoint(moduleUrl)) return;
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = error instanceof UsageError ? 2 : 1;
    },
  );
}

/** util.parseArgs, with the script's usage appended to what it refuses (an unknown option, a missing value). */
export function parseArgsOrUsage<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
  }
}
