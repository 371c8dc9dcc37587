// Transpiles the bench's TypeScript (bench/**/*.ts) to ESM JavaScript with @swc/core (already a
// dev dependency, the same compiler jest uses), one file per source, so that `node` can run it.
// Type checking is `npm run typecheck` (the root tsconfig includes bench/). Usage:
//   node bench/build.mjs [--out <dir inside bench/>]      default: bench/.build
import { transformFile } from '@swc/core';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outIndex = process.argv.indexOf('--out');
const out = path.resolve(outIndex > 0 ? process.argv[outIndex + 1] : path.join(here, '.build'));

async function sources(dir) {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'results') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sources(full)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(full);
  }
  return found;
}

await rm(out, { recursive: true, force: true });
for (const file of await sources(here)) {
  const { code } = await transformFile(file, {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
    sourceMaps: false,
  });
  const target = path.join(out, path.relative(here, file)).replace(/\.ts$/, '.js');
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, code);
}
