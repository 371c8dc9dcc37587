// Runs one of the TypeScript scripts under scripts/ with plain node: transpiles scripts/**/*.ts
// with @swc/core (already a dev dependency, as jest and bench/build.mjs use it) into a temporary
// folder that mirrors scripts/, then imports the entry. Type checking is `npm run typecheck`.
//   node scripts/lib/run.mjs soak [args...]
import { transformFile } from '@swc/core';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const scripts = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [name, ...rest] = process.argv.slice(2);
if (!name) {
  process.stderr.write('usage: node scripts/lib/run.mjs <script name, e.g. soak> [args...]\n');
  process.exit(2);
}

async function sources(dir) {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sources(full)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(full);
  }
  return found;
}

// Inside scripts/ so relative paths (../dist/main.js) resolve as from the sources.
const out = await mkdtemp(path.join(scripts, '.run-'));
try {
  await writeFile(path.join(out, 'package.json'), '{"type":"module"}\n');
  for (const file of await sources(scripts)) {
    if (file.startsWith(out)) continue;
    const { code } = await transformFile(file, { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' }, sourceMaps: false });
    const target = path.join(out, path.relative(scripts, file)).replace(/\.ts$/, '.js');
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, code);
  }
  process.argv = [process.argv[0], path.join(out, `${name}.js`), ...rest];
  await import(pathToFileURL(path.join(out, `${name}.js`)).href);
} finally {
  // the entry has started; its module graph is loaded, so the transpiled files can go
  await rm(out, { recursive: true, force: true });
}
