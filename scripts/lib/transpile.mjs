// Transpiles a tree of TypeScript (*.ts, not *.d.ts) to ESM JavaScript with @swc/core (already a
// dev dependency, the compiler jest uses), one file per source, mirroring the tree under `out`.
// Type checking is `npm run typecheck`. Used by bench/build.mjs and scripts/lib/run.mjs.
import { transformFile } from '@swc/core';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

async function sources(dir, skip) {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (skip(full, entry.name)) continue;
    if (entry.isDirectory()) found.push(...(await sources(full, skip)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(full);
  }
  return found;
}

/** `skip(fullPath, name)` leaves a file or folder out. */
export async function transpileTree(root, out, skip = () => false) {
  for (const file of await sources(root, skip)) {
    const { code } = await transformFile(file, { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' }, sourceMaps: false });
    const target = path.join(out, path.relative(root, file)).replace(/\.ts$/, '.js');
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, code);
  }
}
