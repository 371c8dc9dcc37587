import { execFile, spawn, type ChildProcess } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws on a non-zero exit (the caller asserts on it). */
export function runCommand(command: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Daemon {
  readonly name: string;
  readonly process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Every daemon started and not yet stopped, so a failing run still kills them all. */
const running = new Set<Daemon>();

process.once('exit', () => {
  for (const daemon of running) daemon.process.kill('SIGKILL');
});

const STOP_GRACE_MS = 5_000;
const POLL_MS = 100;

/**
 * Starts a long-running binary and waits until `readyUrl` answers 200. On failure to become
 * ready it is killed and the error carries its output.
 */
export async function startDaemon(name: string, command: string, args: readonly string[], readyUrl: string, readyTimeoutMs = 30_000): Promise<Daemon> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const append = (chunk: Buffer) => {
    // Keep the tail only: a failed assertion shows what the process said last.
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const daemon: Daemon = {
    name,
    process: child,
    output: () => log,
    async stop() {
      running.delete(daemon);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  running.add(daemon);

  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      await daemon.stop();
      throw new Error(`${name} exited with code ${child.exitCode} before it was ready:\n${log}`);
    }
    try {
      const response = await fetch(readyUrl);
      if (response.ok) return daemon;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  await daemon.stop();
  throw new Error(`${name} was not ready at ${readyUrl} within ${readyTimeoutMs} ms:\n${log}`);
}

/** Stops daemons one by one (each by its own handle), collecting errors instead of stopping early. */
export async function stopAll(daemons: readonly (Daemon | undefined)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const daemon of daemons) {
    if (!daemon) continue;
    try {
      await daemon.stop();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'failed to stop some processes');
}
