/**
 * Summary of a V8 .cpuprofile (node --cpu-prof): self time by package / service module, and the
 * hottest functions. Enough to say where the service's event loop spends its time.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  wallMs: number;
  /** Time not idle (the event loop busy). */
  busyMs: number;
  byCategory: { category: string; ms: number; share: number }[];
  /**
   * The same time with V8 builtins and Node core charged to the nearest package or service
   * module on the stack (e.g. a socket write called by pino counts as pino).
   */
  byOwner: { category: string; ms: number; share: number }[];
  topFunctions: { fn: string; where: string; ms: number; share: number }[];
  /** Inclusive time of subtrees whose frame matches a name of interest (e.g. JSON.stringify). */
  inclusive: { fn: string; ms: number; share: number }[];
}

function categoryOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8/native (program)';
    return 'V8 builtins';
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [first, second] = url.slice(modules + '/node_modules/'.length).split('/');
    return first?.startsWith('@') ? `${first}/${second}` : (first ?? 'node_modules');
  }
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return `mlmon dist/${url.slice(dist + 6).split('/')[0]}`;
  if (url.startsWith('node:')) return 'node core';
  return 'other';
}

/** Inclusive time of these frames (their whole subtree), for a few known hot spots. */
const INCLUSIVE = ['stringify', 'parse', 'storePredictions', 'applyRollupDeltas', 'validate', 'handleRequest', 'write'];

/**
 * `window` (µs of the monotonic clock, the same clock as process.hrtime on Linux) keeps only the
 * samples taken while the load ran, leaving out start-up and shutdown.
 */
export async function summarizeProfile(file: string, window?: { fromUs: number; toUs: number }, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  let at = profile.startTime;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window.fromUs || at > window.toUs)) return;
    first = Math.min(first, at);
    last = Math.max(last, at);
    self.set(id, (self.get(id) ?? 0) + delta / 1000);
  });

  const categories = new Map<string, number>();
  const owners = new Map<string, number>();
  const ownerOf = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const category = categoryOf(byId.get(at)!.callFrame);
      if (!['V8 builtins', 'node core', 'other', '(idle)'].includes(category)) return category;
    }
    return categoryOf(byId.get(id)!.callFrame);
  };
  const functions = new Map<string, { fn: string; where: string; ms: number }>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id)!;
    total += ms;
    const category = categoryOf(node.callFrame);
    if (category === '(idle)') {
      idle += ms;
      continue;
    }
    categories.set(category, (categories.get(category) ?? 0) + ms);
    const owner = ownerOf(id);
    owners.set(owner, (owners.get(owner) ?? 0) + ms);
    const fn = node.callFrame.functionName || '(anonymous)';
    const where = node.callFrame.url ? `${node.callFrame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${node.callFrame.lineNumber + 1}` : category;
    const key = `${fn}@${where}`;
    const entry = functions.get(key) ?? { fn, where, ms: 0 };
    entry.ms += ms;
    functions.set(key, entry);
    // Inclusive: count this sample once for each distinct name of interest on its stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)!.callFrame.functionName;
      if (INCLUSIVE.includes(name) && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
      }
    }
  }
  const busy = total - idle;
  const share = (ms: number) => (busy > 0 ? ms / busy : 0);
  return {
    wallMs: last > first ? (last - first) / 1000 : 0,
    busyMs: busy,
    byCategory: [...categories].map(([category, ms]) => ({ category, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms),
    byOwner: [...owners].map(([category, ms]) => ({ category, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms),
    topFunctions: [...functions.values()].sort((a, b) => b.ms - a.ms).slice(0, top).map((f) => ({ ...f, share: share(f.ms) })),
    inclusive: [...inclusive].map(([fn, ms]) => ({ fn, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms),
  };
}
