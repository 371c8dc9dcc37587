// Runs one of the TypeScript scripts under scripts/ with plain node: transpiles scripts/**/*.ts
// (transpile.mjs) into a temporary folder that mirrors scripts/, then imports the entry.
//   node scripts/lib/run.mjs soak [args...]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transpileTree } from './transpile.mjs';

const scripts = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [name, ...rest] = process.argv.slice(2);
if (!name) {
  process.stderr.write('usage: node scripts/lib/run.mjs <script name, e.g. soak> [args...]\n');
  process.exit(2);
}

// Inside scripts/ so relative paths (../dist/main.js) resolve as from the sources.
const out = await mkdtemp(path.join(scripts, '.run-'));
try {
  await writeFile(path.join(out, 'package.json'), '{"type":"module"}\n');
  await transpileTree(scripts, out, (full) => full.startsWith(out));
  process.argv = [process.argv[0], path.join(out, `${name}.js`), ...rest];
  await import(pathToFileURL(path.join(out, `${name}.js`)).href);
} finally {
  // the entry has started; its module graph is loaded, so the transpiled files can go
  await rm(out, { recursive: true, force: true });
}
