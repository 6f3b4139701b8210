import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { runExport } from '../../cli/export.ts';
import { runVerify } from '../../cli/verify/command.ts';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import { type ConsistencyProof, consistencyProblem, type SignedTreeHead } from '../../protocol/tree-head.ts';
import { drainBacklog } from '../e2e/e2e-support.ts';
import { ELEMENTS, smallSynthetic, testGatewayConfig } from '../helpers/gateway-config.ts';
import { sealed, tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import { copyOf } from './export-support.ts';

const quiet = pino({ level: 'silent' });

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += d));
  return { stream, text: () => text };
}

t.test(
  'a case recorded by a real gateway is exported by `quanlu export` (no server running) and verifies offline; tree heads taken during the recording are consistent pairwise',
  async (t) => {
    const dir = tmp(t, 'quanlu-rec-export-');
    const ingestConfig = {
      dataDir: `${dir}/ingest`,
      mqtt: { kind: 'embedded' as const, port: 0 },
      http: { port: 0 },
      tls: PLAINTEXT,
      log: { level: 'warn' as const },
      fixity: { enabled: false, bytesPerSecond: 1 << 20, pauseSeconds: 3600 },
    };
    const ingest = await startIngest(ingestConfig, { log: quiet });
    let ingestOpen = true;
    t.teardown(() => (ingestOpen ? ingest.close() : undefined));
    const gw = buildGateway(
      testGatewayConfig(`${dir}/gateway`, [smallSynthetic('cam-1'), smallSynthetic('cam-2', 660)]),
      { log: quiet, uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store } },
    );
    let gwOpen = true;
    t.teardown(() => (gwOpen ? gw.close() : undefined));
    const asked = once(ingest.events, 'enrollment');
    await gw.start();
    const [row] = (await asked) as [{ fingerprint: string }];
    await ingest.decide(row.fingerprint, 'approved', 'test-admin');

    const heads: SignedTreeHead[] = [];
    // Signing on demand is an administrator's POST; the test signs in-process and reads over HTTP.
    const signNow = async () => {
      const signed = await ingest.transparencyLog.signTreeHead();
      const res = await fetch(`${ingest.httpUrl}/api/v1/log/tree-head`);
      t.equal(res.status, 200, 'the latest tree head is public');
      t.same(await res.json(), signed, 'and is the one just signed');
      heads.push(signed);
    };
    const started = await gw.recorder.start(ELEMENTS);
    for (let n = 1; n <= 3; n++) {
      await sealed(gw, 'cam-1', 'segment', 2);
      await ingest.transparencyLog.sequence();
      await signNow();
    }
    await gw.recorder.stop();
    await drainBacklog(gw, 60_000);
    await signNow();
    t.ok(heads.at(-1)!.head.size > heads[0]!.head.size, 'the log grew while recording');
    const key = await (await fetch(`${ingest.httpUrl}/api/v1/log/key`)).json();
    t.equal((key as { owner: string }).owner, 'ingest', 'the log key is published');
    for (const a of heads)
      for (const b of heads) {
        if (a.head.size === 0 || a.head.size > b.head.size) continue;
        const res = await fetch(
          `${ingest.httpUrl}/api/v1/log/consistency?first=${a.head.size}&second=${b.head.size}`,
        );
        const proof = (await res.json()) as ConsistencyProof;
        t.equal(
          consistencyProblem(proof, a.head, b.head),
          null,
          `heads ${a.head.size} → ${b.head.size} are consistent`,
        );
      }
    const missing = await fetch(`${ingest.httpUrl}/api/v1/log/inclusion?entry=${'0'.repeat(64)}`);
    t.equal(missing.status, 404, 'an entry the log does not hold has no proof');

    // The server stops; the export opens the same database and store from the configuration.
    await gw.close();
    gwOpen = false;
    await ingest.close();
    ingestOpen = false;
    const configFile = join(dir, 'ingest.json');
    writeFileSync(configFile, JSON.stringify(ingestConfig));
    const bag = join(dir, 'package');
    const out = sink();
    const result = await runExport(
      ELEMENTS.caseId,
      { out: bag, config: configFile, progress: false },
      {
        out: out.stream,
        err: out.stream as unknown as NodeJS.WriteStream,
      },
    );
    t.same(result.info.recordings, [started.recording]);
    t.ok(result.info.objects >= 6, `${result.info.objects} objects exported`);
    t.same(result.derived.failed, [], 'every convenience copy was made');
    for (const track of ['cam-1', 'cam-2']) {
      const mp4 = join(bag, 'derived', started.recording, `${track}.mp4`);
      t.ok(existsSync(mp4), `derived/${started.recording}/${track}.mp4 exists`);
      const seconds = Number(
        execFileSync('ffprobe', [
          '-v',
          'error',
          '-show_entries',
          'format=duration',
          '-of',
          'csv=p=0',
          mp4,
        ]).toString(),
      );
      t.ok(seconds > 3, `${track}.mp4 plays for ${seconds} s`);
    }
    t.match(out.text(), /check it with: quanlu verify/);

    const verdict = sink();
    const code = await runVerify(
      copyOf(t, bag),
      { progress: false },
      {
        out: verdict.stream as never,
        err: verdict.stream as never,
      },
    );
    t.equal(code, 0, 'the copy verifies offline');
    t.match(verdict.text(), /PACKAGE: OK/);
    t.match(verdict.text(), /RESULT: OK — 2 track\(s\) hold/);
  },
);
