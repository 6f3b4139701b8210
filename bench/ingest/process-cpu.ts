/**
 * @module CPU time of other processes, from /proc (Linux), for the ingest bench: the broker's and the database
 * backends' share of each entry's cost, beside the ingest's own.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat (USER_HZ): 100 on every Linux this runs on. */
const TICKS = 100;

/** CPU seconds (user + system) a process has used, or null when it is gone or /proc cannot be read. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: the fields after it start past its closing parenthesis.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS; // utime, stime: fields 14 and 15
  } catch {
    return null;
  }
}

/** Pids of the processes whose command line contains `needle`. */
export function pidsWithCommandLine(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(needle))
        out.push(Number(name));
    } catch {}
  }
  return out;
}

/** CPU seconds a set of processes uses from now on; pids may be added later (counted from 0 then). */
export class CpuMeter {
  readonly #start = new Map<number, number>();

  /** Starts counting for these pids. */
  constructor(pids: number[] = []) {
    for (const pid of pids) this.add(pid);
  }

  /** Counts a pid from now, or from its start when `fromStart`. */
  add(pid: number, fromStart = false): void {
    if (this.#start.has(pid)) return;
    this.#start.set(pid, fromStart ? 0 : (processCpuSeconds(pid) ?? 0));
  }

  /** Seconds used since counting started, by the pids still alive. */
  seconds(): number {
    let s = 0;
    for (const [pid, start] of this.#start) {
      const now = processCpuSeconds(pid);
      if (now !== null) s += now - start;
    }
    return s;
  }
}
