/**
 * @module Starts `test/e2e/ingest-runner.ts` as a child process (the e2e failure tests and bench/scale kill and
 * restart ingest nodes this way), and reads a metric from a node's `/metrics` text.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const RUNNER = join(fileURLToPath(new URL('.', import.meta.url)), 'ingest-runner.ts');

/** An ingest node running in a child process, and where it listens. */
export interface RunnerProcess {
  child: ChildProcess;
  mqttUrl: string;
  httpUrl: string;
}

/**
 * Starts an ingest runner with `config`; resolves once it prints where it listens, rejects when it exits
 * first or does not listen within `timeoutMs`. `name` goes into the error messages.
 */
export async function startIngestRunner(
  config: unknown,
  name = 'the ingest',
  timeoutMs = 60_000,
): Promise<RunnerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin!.on('error', () => {});
  const exited = once(child, 'exit').then(([code, signal]) => {
    throw new Error(`${name} exited (${signal ?? code}) before it was listening`);
  });
  const line = once(createInterface({ input: child.stdout! }), 'line').then(
    ([l]) => JSON.parse(l as string) as { mqttUrl: string; httpUrl: string },
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${name} did not listen within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    timer.unref();
  });
  try {
    const ready = await Promise.race([line, exited, timeout]);
    return { child, mqttUrl: ready.mqttUrl, httpUrl: ready.httpUrl };
  } finally {
    clearTimeout(timer);
    exited.catch(() => {});
  }
}

/**
 * The sum of a metric's samples in Prometheus text (every label set), or null when the text has no sample of
 * it. A labelled counter has no sample line before its first increment: callers that know it exists read
 * null as zero.
 */
export function metricSum(text: string, name: string): number | null {
  const samples = text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  if (samples.length === 0) return null;
  return samples.reduce((sum, l) => sum + Number(l.split(/\s+/).at(-1)), 0);
}
