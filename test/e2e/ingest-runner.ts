/**
 * @module Runs one ingest as a child process for crash tests: config as JSON in argv[2], prints
 * `{"mqttUrl":…,"httpUrl":…}` on one stdout line once listening, closes on SIGTERM, dies on SIGKILL.
 */
import pino from 'pino';
import { startIngest } from '../../ingest/app.ts';
import { PLAINTEXT } from '../helpers/tls.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as Parameters<typeof startIngest>[0];
const ingest = await startIngest({ tls: PLAINTEXT, ...config }, { log: pino({ level: 'silent' }) });
process.stdout.write(
  `${JSON.stringify({ mqttUrl: ingest.mqttUrl, httpUrl: ingest.httpUrl, pid: process.pid })}\n`,
);
process.once('SIGTERM', () => {
  void ingest.close().finally(() => process.exit(0));
});
// The parent's end of stdin closes when it dies: no orphaned ingest holds the broker session.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
