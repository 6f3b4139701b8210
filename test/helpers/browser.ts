/** @module Browser tests and bench/live-glass: Debian's Chromium through playwright-core (never a downloaded browser), and an ingest + gateway recording a synthetic camera pair, with console users. */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type Browser, chromium } from 'playwright-core';
import { DEMO_CASE } from '../../cli/demo.ts';
import { buildGateway, type Gateway } from '../../gateway/gateway.ts';
import { type Ingest, startIngest } from '../../ingest/app.ts';
import { addUser } from '../../ingest/auth/users.ts';
import type { Entry } from '../../protocol/entry.ts';
import { smallSynthetic, testGatewayConfig } from './gateway-config.ts';
import { PLAINTEXT } from './tls.ts';

/** The system Chromium (Debian package `chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** Chromium's switches for tests: no GPU, no sandbox (containers), nothing phoning home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Launches the system Chromium. playwright-core gives every launch a fresh temporary profile
 * (its own `--user-data-dir`, removed on close); it refuses one passed in `args`.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** A console user made by the stack. */
export interface StackUser {
  username: string;
  password: string;
}

/** An ingest and a gateway recording the demo case on two synthetic cameras, with console users. */
export interface ConsoleStack {
  ingest: Ingest;
  gateway: Gateway;
  /** The running recording's id. */
  recording: string;
  caseId: string;
  /** The room the recording is made in. */
  room: string;
  users: { supervisor: StackUser; auditor: StackUser; outsider: StackUser };
  /** Resolves once every track has `n` segments indexed at the ingest. */
  segmentsIndexed(n: number, limitMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Options of the stack. */
export interface ConsoleStackOptions {
  /** Ask for a reason for access before playback (config `access.reasonRequired`). */
  reasonRequired?: boolean;
  segmentSeconds?: number;
}

/** Starts the stack: ingest (PGlite, embedded broker, fs store), an approved gateway, a recording, users. */
export async function startConsoleStack(opts: ConsoleStackOptions = {}): Promise<ConsoleStack> {
  const dir = await mkdtemp(join(tmpdir(), 'quanlu-console-'));
  const log = pino({ level: 'silent' });
  const closers: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const ingest = await startIngest(
      {
        dataDir: join(dir, 'ingest'),
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        tls: PLAINTEXT,
        log: { level: 'warn' },
        access: { reasonRequired: opts.reasonRequired ?? false },
      },
      { log },
    );
    closers.push(() => ingest.close());
    const config = testGatewayConfig(
      join(dir, 'gateway'),
      [smallSynthetic('cam-1'), smallSynthetic('cam-2', 660)],
      opts.segmentSeconds ?? 2,
    );
    const gateway = buildGateway(config, { log, uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store } });
    closers.push(() => gateway.close());
    const asked = once(ingest.events, 'enrollment');
    await gateway.start();
    const [row] = (await asked) as [{ fingerprint: string }];
    await ingest.decide(row.fingerprint, 'approved', 'test-admin');

    const at = new Date().toISOString();
    const users = {
      supervisor: { username: 'supervisor1', password: 'supervisor-password-1' },
      auditor: { username: 'auditor1', password: 'auditor-password-1' },
      outsider: { username: 'operator2', password: 'operator-password-2' },
    };
    await addUser(ingest.repo, { ...users.supervisor, role: 'supervisor', displayName: '王监督' }, at);
    await addUser(ingest.repo, { ...users.auditor, role: 'auditor', displayName: '李审计' }, at);
    // An operator of another room: may sign in, may not see this recording.
    await addUser(ingest.repo, { ...users.outsider, role: 'operator', rooms: ['hearing-9'] }, at);

    const started = await gateway.recorder.start({ ...DEMO_CASE });
    const counts = new Map<string, number>(started.tracks.map((t) => [t.track, 0]));
    ingest.consumer.on('indexed', (e: { entry: Entry }) => {
      if (e.entry.recording === started.recording && e.entry.kind === 'segment') {
        counts.set(e.entry.track, (counts.get(e.entry.track) ?? 0) + 1);
      }
    });
    return {
      ingest,
      gateway,
      recording: started.recording,
      caseId: DEMO_CASE.caseId,
      room: config.config.room.id,
      users,
      segmentsIndexed: (n, limitMs) =>
        new Promise((resolve, reject) => {
          const done = () => [...counts.values()].every((c) => c >= n);
          if (done()) return resolve();
          const timer = setTimeout(() => {
            ingest.consumer.off('indexed', check);
            reject(new Error(`${n} segments per track not indexed within ${limitMs} ms`));
          }, limitMs);
          function check() {
            if (!done()) return;
            clearTimeout(timer);
            ingest.consumer.off('indexed', check);
            resolve();
          }
          ingest.consumer.on('indexed', check);
        }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
