import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { mlmonOn, type Context } from './context.js';
import { summarizeProfile, type ProfileSummary } from './profile.js';

let serial = 0;

/**
 * Runs a fresh service process under `node --cpu-prof`, warms it, then profiles it while `load`
 * runs; only the samples taken during `load` are summarized (start-up and shutdown left out).
 */
export async function profileMlmon(
  ctx: Context,
  databaseUrl: string,
  warm: (baseUrl: string) => Promise<unknown>,
  load: (baseUrl: string) => Promise<unknown>,
): Promise<ProfileSummary | null> {
  const dir = path.join(ctx.scratch, `cpu-profile-${++serial}`);
  const window = { fromUs: 0, toUs: 0 };
  const profiled = await mlmonOn(ctx, databaseUrl, { name: 'mlmon-profiled', nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  try {
    await warm(profiled.baseUrl);
    window.fromUs = Number(process.hrtime.bigint() / 1000n);
    await load(profiled.baseUrl);
    window.toUs = Number(process.hrtime.bigint() / 1000n);
  } finally {
    await profiled.stop(); // a graceful exit writes the profile
  }
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'));
  if (!files[0]) {
    ctx.log('  (no CPU profile was written)');
    return null;
  }
  return summarizeProfile(path.join(dir, files[0]), window);
}
