import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A file a generator renders (rule files, dashboards): its name in the output directory and its text. */
export interface GeneratedFile {
  readonly fileName: string;
  readonly content: string;
}

/**
 * The files of `directory` that are not as generated: edited, missing, or extra (a file with the
 * given extension that none of `files` names, as a renamed or removed definition leaves behind,
 * still provisioned). In a missing directory every file is missing.
 */
export async function staleFiles(directory: string, files: readonly GeneratedFile[], extension: string): Promise<string[]> {
  const present: string[] = await readdir(directory).then(
    (names) => names.filter((name) => name.endsWith(extension)),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    },
  );
  const stale: string[] = [];
  for (const file of files) {
    const current = present.includes(file.fileName) ? await readFile(path.join(directory, file.fileName), 'utf8') : undefined;
    if (current !== file.content) stale.push(file.fileName);
  }
  for (const name of present) {
    if (!files.some((file) => file.fileName === name)) stale.push(name);
  }
  return stale;
}

/**
 * Writes the generated files into `directory`, which it creates. A file already as generated is
 * left alone and keeps its modification time, which config reloaders watch. Other files stay.
 */
export async function writeGeneratedFiles(directory: string, files: readonly GeneratedFile[]): Promise<{ path: string; written: boolean }[]> {
  await mkdir(directory, { recursive: true });
  const results: { path: string; written: boolean }[] = [];
  for (const file of files) {
    const target = path.join(directory, file.fileName);
    const written = (await readFile(target, 'utf8').catch(() => undefined)) !== file.content;
    if (written) await writeFile(target, file.content);
    results.push({ path: target, written });
  }
  return results;
}
