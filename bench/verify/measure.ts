/**
 * @module Timing for benchmarks that race child processes: wall time, CPU time, peak memory, and how much
 * of the machine other processes took meanwhile (on a shared machine that decides whether a run means anything).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** GNU time, to learn a child's CPU time and peak RSS; without it those are null. */
const GNU_TIME = '/usr/bin/time';
/** /proc/stat counts in USER_HZ, fixed at 100 for user space on Linux. */
const USER_HZ = 100;

/** One timed run. */
export interface Timed {
  seconds: number;
  /** CPU seconds (user + system) of the measured work, all its threads and children. */
  cpuSeconds: number | null;
  /** Peak resident set of the child, in KiB (null in-process or without GNU time). */
  maxRssKb: number | null;
  /** Share of all CPUs other processes used during the run: 0 is a quiet machine, 1 a saturated one. */
  contention: number | null;
}

/** A timed child process with its output. */
export interface TimedChild extends Timed {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Busy and total CPU time of the whole machine so far, in seconds, or null off Linux. */
async function machineCpu(): Promise<{ busy: number; total: number } | null> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!;
    // cpu user nice system idle iowait irq softirq steal: time stolen by the hypervisor counts as busy.
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((a, b) => a + b, 0) / USER_HZ;
    return { busy: total - (f[3]! + f[4]!) / USER_HZ, total };
  } catch {
    return null;
  }
}

function contention(
  before: { busy: number; total: number } | null,
  after: { busy: number; total: number } | null,
  ownCpu: number | null,
): number | null {
  if (!before || !after || ownCpu === null || after.total <= before.total) return null;
  const others = after.busy - before.busy - ownCpu;
  return Math.min(1, Math.max(0, others / (after.total - before.total)));
}

/** Runs a command to completion, under GNU time when present, and times it by the wall clock. */
export async function timeChild(
  cmd: string,
  argv: string[],
  opts: { cwd: string; scratch: string },
): Promise<TimedChild> {
  const gnuTime = existsSync(GNU_TIME);
  const before = await machineCpu();
  const started = performance.now();
  const ran = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
    const child = gnuTime
      ? spawn(GNU_TIME, ['-f', '%U %S %M', '-o', opts.scratch, cmd, ...argv], { cwd: opts.cwd })
      : spawn(cmd, argv, { cwd: opts.cwd });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', fail);
    child.on('close', (code) =>
      done({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
  });
  const seconds = (performance.now() - started) / 1000;
  const after = await machineCpu();
  let cpuSeconds: number | null = null;
  let maxRssKb: number | null = null;
  if (gnuTime) {
    // The last line: GNU time writes "Command exited with non-zero status N" before it on failure.
    const [user, sys, rss] = (await readFile(opts.scratch, 'utf8'))
      .trim()
      .split('\n')
      .pop()!
      .split(' ')
      .map(Number);
    cpuSeconds = user! + sys!;
    maxRssKb = rss!;
  }
  return { ...ran, seconds, cpuSeconds, maxRssKb, contention: contention(before, after, cpuSeconds) };
}

/** Times work done in this process (its worker threads included). */
export async function timeInProcess(work: () => Promise<void>): Promise<Timed> {
  const before = await machineCpu();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const after = await machineCpu();
  return { seconds, cpuSeconds, maxRssKb: null, contention: contention(before, after, cpuSeconds) };
}

/** The median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
