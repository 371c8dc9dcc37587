/**
 * CPU time spent, read from /proc: the noise-robust side of a throughput ratio. On a shared
 * 2-core machine rows/s move by 2x with other people's load; the CPU a row costs barely does.
 */
import { readFile } from 'node:fs/promises';
import type postgres from 'postgres';

/** Linux counts process CPU in clock ticks of 1/100 s (CLK_TCK, 100 on every mainstream kernel). */
const MS_PER_TICK = 10;

/** User + system CPU of a process so far, in ms; null when it is gone. */
export async function processCpuMs(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK; // utime, stime
  } catch {
    return null;
  }
}

/** CPU per backend of a database, split by whether the service (application_name mlmon) owns it. */
export type BackendCpu = Map<number, number>;

export async function backendCpu(sql: postgres.Sql, database: string, owner: 'service' | 'others'): Promise<BackendCpu> {
  const rows = await sql<{ pid: number }[]>`
    select pid from pg_stat_activity
    where datname = ${database} and pid <> pg_backend_pid()
      and (application_name = 'mlmon') = ${owner === 'service'}`;
  const cpu: BackendCpu = new Map();
  for (const { pid } of rows) {
    const ms = await processCpuMs(pid);
    if (ms !== null) cpu.set(pid, ms);
  }
  return cpu;
}

/** CPU the backends spent between two readings (a backend that appeared in between counts whole). */
export function backendCpuBetween(before: BackendCpu, after: BackendCpu): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** The whole machine's CPU time so far (/proc/stat, every core): all of it and its idle part, in ticks. */
export interface MachineCpu {
  total: number;
  idle: number;
}

export async function machineCpu(): Promise<MachineCpu> {
  const [line] = (await readFile('/proc/stat', 'utf8')).split('\n', 1);
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
  const ticks = line!.trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: ticks.reduce((sum, t) => sum + t, 0), idle: ticks[3]! + ticks[4]! };
}

/**
 * The share of the machine's CPU left idle between two readings. A target that leaves CPU idle
 * under full load is bound by waiting (a commit flush, one statement at a time), not by CPU.
 */
export function idleShareBetween(before: MachineCpu, after: MachineCpu): number {
  return (after.idle - before.idle) / (after.total - before.total);
}
