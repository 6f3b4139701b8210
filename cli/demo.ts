/**
 * @module `quanlu demo`: the main job on embedded defaults. The embedded ingest (aedes, PGlite, a local object
 * folder) and one gateway with two synthetic cameras record a demo case; on Ctrl-C (or after --seconds) the
 * recording stops, the backlog drains, and the recording is exported from the gateway and verified offline.
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { demoGatewayConfig, parseGatewayConfig } from '../firmware-config/load.ts';
import { serveConsole } from '../gateway/console/serve-console.ts';
import { writeEvidenceFolder } from '../gateway/evidence-folder.ts';
import { buildGateway } from '../gateway/gateway.ts';
import { displayFingerprint, loadOrCreateIdentity } from '../gateway/identity.ts';
import { startIngest } from '../ingest/app.ts';
import { demoCredentialsPath, ensureDemoUsers } from '../ingest/auth/demo-users.ts';
import { displayCertificateFingerprint } from '../protocol/tls/certificates.ts';
import { TLS_FILES } from '../protocol/tls/tls-files.ts';
import { runVerify } from './verify/command.ts';

/** The demo case's recording elements. */
export const DEMO_CASE = {
  caseId: 'DEMO-2026-0001',
  matter: 'hearing',
  officers: ['31010001', '31010002'],
  startedBy: 'demo',
};

interface DemoOptions {
  data: string;
  seconds?: string;
  fresh?: boolean;
  httpPort: string;
  consolePort: string;
}

/** Adds `demo` to the program. */
export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run quanlu on its embedded defaults: an ingest, and a gateway recording two synthetic cameras',
    )
    .option('--data <dir>', 'data folder', 'data/demo')
    .option('--seconds <n>', 'stop by itself after this many seconds (default: run until Ctrl-C)')
    .option('--fresh', 'start from an empty data folder')
    .option('--http-port <n>', 'port of the ingest HTTP API and console (0 picks a free one)', '8080')
    .option('--console-port <n>', "port of the room's operator console (0 picks a free one)", '8090')
    .action(runDemo);
}

async function runDemo(opts: DemoOptions): Promise<void> {
  const data = resolve(opts.data);
  if (opts.fresh) await rm(data, { recursive: true, force: true });
  const out = process.stdout;
  // QUANLU_LOG_LEVEL (e.g. info, debug) shows more than warnings; the log-secret test runs the demo at debug.
  const log = pino({ level: process.env.QUANLU_LOG_LEVEL || 'warn' });
  const config = demoGatewayConfig({ dataDir: join(data, 'gateway'), cameras: 2 });
  const loaded = parseGatewayConfig({
    ...config,
    console: { ...config.console, host: '127.0.0.1', port: Number(opts.consolePort) },
  });
  // The demo's own gateway is approved as soon as it asks; any other gateway waits for an administrator.
  const identity = loadOrCreateIdentity(loaded.config.gateway.dataDir, loaded.config.gateway.id);
  const ingest = await startIngest(
    {
      dataDir: join(data, 'ingest'),
      mqtt: { kind: 'embedded', port: 0 },
      http: { port: Number(opts.httpPort) },
      log: { level: 'warn' },
    },
    { log, autoApprove: [identity.keyPair.publicKey.fingerprint] },
  );
  out.write(
    `ingest: MQTT ${ingest.mqttUrl} · HTTP ${ingest.httpUrl} · PGlite in ${join(data, 'ingest', 'db')}\n`,
  );
  // TLS (issue 10): the ingest made its CA on first start; the demo gateway pins it, browsers are shown its fingerprint.
  const ingestCa = join(data, 'ingest', 'tls', TLS_FILES.ca);
  if (ingest.tls)
    out.write(`ingest CA ${ingestCa} · SHA-256 ${displayCertificateFingerprint(ingest.tls.caFingerprint)}\n`);
  const demoUsers = await ensureDemoUsers(ingest.repo, join(data, 'ingest'));
  out.write(`console: ${ingest.httpUrl}/  sign in as\n`);
  for (const u of demoUsers.users) out.write(`  ${u.role.padEnd(10)} ${u.username} / ${u.password}\n`);
  if (demoUsers.created)
    out.write(`  (demo only: the passwords are kept in ${demoCredentialsPath(join(data, 'ingest'))})\n`);
  const tls = { caFile: ingestCa, pinFile: join(loaded.config.gateway.dataDir, 'ingest-ca.pem') };
  const gw = buildGateway(loaded, { log, uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store, tls } });
  out.write(`gateway ${gw.id} · key ${displayFingerprint(gw.keyPair.publicKey.fingerprint)}\n`);
  await gw.start();
  // Every recording of this run is exported at the end, including those the operator starts in the console.
  const recordings = new Set<string>();
  gw.recorder.on('started', (s) => recordings.add(s.recording));
  const running = gw.recorder.status() ?? (await gw.recorder.start(DEMO_CASE));
  recordings.add(running.recording);
  const operator = await serveConsole({ gateway: gw, on: () => undefined }, loaded);
  out.write(`operator console (the room's touch screen): ${operator.url}/\n`);
  if (operator.caFingerprint) {
    const consoleCa = join(loaded.config.gateway.dataDir, 'tls', TLS_FILES.ca);
    out.write(
      `operator console CA ${consoleCa} · SHA-256 ${displayCertificateFingerprint(operator.caFingerprint)}\n`,
    );
  }
  out.write(
    `recording ${running.recording} of case ${running.caseId} on ${running.tracks.length} synthetic cameras\n`,
  );
  out.write(`find it at the ingest: ${ingest.httpUrl}/api/v1/recordings?caseId=${running.caseId}\n`);
  out.write(
    opts.seconds
      ? `stopping by itself after ${opts.seconds} s\n`
      : 'press Ctrl-C to stop the recording, export it and verify it\n',
  );
  const ticker = setInterval(() => {
    const s = gw.recorder.status();
    if (!s) return;
    const cams = s.tracks.map(
      (t) => `${t.track} ${t.camera} ${t.segments} seg${t.gaps ? ` ${t.gaps} gap(s)` : ''}`,
    );
    out.write(
      `[${Math.round(s.durationMs / 1000)} s] ${cams.join(' · ')} · upload backlog ${gw.spool.backlog().entries}\n`,
    );
  }, 10_000);
  await new Promise<void>((done) => {
    const timer = opts.seconds ? setTimeout(done, Number(opts.seconds) * 1000) : null;
    process.once('SIGINT', () => {
      if (timer) clearTimeout(timer);
      done();
    });
  });
  clearInterval(ticker);
  out.write('\nstopping: sealing each camera tail and closing the chains\n');
  await operator.close();
  if (gw.recorder.status()) await gw.recorder.stop();
  const drainBy = Date.now() + 30_000;
  while (gw.spool.backlog().entries > 0 && Date.now() < drainBy) await new Promise((r) => setTimeout(r, 200));
  const waiting = gw.spool.backlog().entries;
  const folders: string[] = [];
  for (const recording of recordings) {
    const indexed = await ingest.repo.recording(recording);
    const tracks = indexed?.tracks.map((t) => `${t.track} ${t.status}`).join(', ') ?? 'none';
    out.write(`ingest: recording ${recording} indexed with tracks ${tracks}\n`);
    const folder = join(data, `evidence-${recording}`);
    const chains = loaded.config.cameras.map((c) => ({ recording, track: c.id }));
    writeEvidenceFolder(gw.spool, folder, gw.id, gw.keyPair, chains);
    folders.push(folder);
  }
  out.write(waiting ? `${waiting} entries still waiting to upload\n` : 'every entry acknowledged\n');
  await gw.close();
  await ingest.close();
  let exitCode = 0;
  for (const folder of folders) {
    out.write(`evidence folder written to ${folder}\n\n`);
    exitCode ||= await runVerify(folder, { progress: false });
  }
  process.exitCode = exitCode;
  out.write(
    `\nTry tampering: flip a byte under ${join(folders.at(-1)!, 'objects')} and run: npx quanlu verify ${folders.at(-1)}\n`,
  );
}
