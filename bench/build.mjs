// Transpiles the bench's TypeScript (bench/**/*.ts) to ESM JavaScript (scripts/lib/transpile.mjs),
// one file per source, so that `node` can run it. Usage:
//   node bench/build.mjs [--out <dir inside bench/>]      default: bench/.build
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transpileTree } from '../scripts/lib/transpile.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const outIndex = process.argv.indexOf('--out');
const out = path.resolve(outIndex > 0 ? process.argv[outIndex + 1] : path.join(here, '.build'));

await rm(out, { recursive: true, force: true });
await transpileTree(here, out, (_, name) => name.startsWith('.') || name === 'results');
