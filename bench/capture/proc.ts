/** @module Linux /proc readings for the capture benchmark: CPU ticks, peak RSS and process trees, sampled. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat times (100 on every Linux this runs on; asked anyway). */
export const CLK_TCK = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** The fields of /proc/PID/stat this benchmark uses; times in seconds. */
export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime of the process itself (every thread). */
  cpuS: number;
  /** stime alone: time in the kernel on its behalf. */
  systemS: number;
  /** cutime + cstime: CPU of the children it has waited for (reaped), with their own reaped children. */
  childrenCpuS: number;
  /** Start time in ticks since boot: with the pid, names a process uniquely. */
  start: number;
}

/**
 * Reads /proc/PID/stat ("self" for this process, or a path below /proc such as "self/task/TID" for one
 * thread); null when the process is gone.
 */
export function readStat(pid: number | string): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm is in parentheses and may itself hold spaces or parentheses: the fields start after the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // f[0] is field 3 (state): field N is f[N - 3].
  const num = (field: number) => Number(f[field - 3]);
  return {
    pid: Number(text.slice(0, text.indexOf(' '))),
    comm,
    ppid: num(4),
    cpuS: (num(14) + num(15)) / CLK_TCK,
    systemS: num(15) / CLK_TCK,
    childrenCpuS: (num(16) + num(17)) / CLK_TCK,
    start: num(22),
  };
}

/** Peak (VmHWM) and current (VmRSS) resident set of a process in KiB; null when it is gone. */
export function readRss(pid: number): { hwmKb: number; rssKb: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { hwmKb: kb('VmHWM'), rssKb: kb('VmRSS') };
}

/** Busy and total jiffies of all CPUs from /proc/stat, to tell how busy the machine was meanwhile. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** The direct children of a process, from /proc/PID/task/TID/children of every thread. */
function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Every descendant of a process, depth first. */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const stack = childrenOf(pid);
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...childrenOf(p));
  }
  return out;
}

/** What the sampler saw of one process over its life. */
export interface Seen {
  pid: number;
  comm: string;
  /** The last utime + stime read (up to one interval short of the final value). */
  cpuS: number;
  /** The kernel's part of cpuS, as last read. */
  systemS: number;
  /** The highest VmHWM read: the process's peak RSS, unless it grew after the last sample. */
  peakKb: number;
  samples: number;
}

/**
 * Samples CPU and peak RSS of a set of processes every `intervalMs`: fixed pids, or the descendants of a
 * root pid (found anew each time, so children that come and go are caught if they live one interval).
 */
export class ProcSampler {
  readonly seen = new Map<string, Seen>();
  readonly #timer: NodeJS.Timeout;
  readonly #pids: () => number[];

  constructor(pids: () => number[], intervalMs = 250) {
    this.#pids = pids;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Takes one sample now (also called on each process's exit, when it may already be gone). */
  sample(): void {
    for (const pid of this.#pids()) {
      const stat = readStat(pid);
      const rss = readRss(pid);
      if (!stat) continue;
      const key = `${pid}:${stat.start}`;
      const s = this.seen.get(key) ?? { pid, comm: stat.comm, cpuS: 0, systemS: 0, peakKb: 0, samples: 0 };
      s.comm = stat.comm; // a child seen between fork and exec is still called "node"
      s.cpuS = Math.max(s.cpuS, stat.cpuS);
      s.systemS = Math.max(s.systemS, stat.systemS);
      s.peakKb = Math.max(s.peakKb, rss?.hwmKb ?? 0);
      s.samples++;
      this.seen.set(key, s);
    }
  }

  /** Stops sampling and returns what was seen. */
  stop(): Seen[] {
    clearInterval(this.#timer);
    return [...this.seen.values()];
  }
}
