/** @module Runs a gateway process: loads the config, builds the gateway, resumes, handles signals. Nothing else. */
import type { GatewayConfig } from '../firmware-config/gateway-config.ts';
import { loadGatewayConfig } from '../firmware-config/load.ts';
import { openStore } from '../store/open-store.ts';
import { buildGateway, type Gateway, type GatewayDeps } from './gateway.ts';
import { displayFingerprint } from './identity.ts';
import { createGatewayMetrics } from './metrics.ts';
import type { RecordingElements } from './recording/room-recorder.ts';

/** Options of a gateway run. */
export interface GatewayRunOptions {
  config: string;
  /** Start a recording at once with these elements, unless one is already running. */
  record?: RecordingElements;
}

/** Starts the gateway and resolves once it runs; it stops on SIGINT/SIGTERM (a recording resumes on restart). */
export async function runGateway(opts: GatewayRunOptions, out = process.stdout): Promise<Gateway> {
  const loaded = await loadGatewayConfig(opts.config);
  const gw = buildGateway(loaded, uplinkOf(loaded.config));
  // Operations (issue 9): the metrics listener, when the config asks for one.
  const metrics = createGatewayMetrics(gw);
  const listener = loaded.config.metrics
    ? await metrics.listen(loaded.config.metrics.host, loaded.config.metrics.port)
    : null;
  if (listener) out.write(`metrics ${listener.url}\n`);
  out.write(
    `gateway ${gw.id} · room ${loaded.config.room.id} (${loaded.profile.name}) · ${loaded.config.cameras.length} camera(s)\n` +
      `key fingerprint ${displayFingerprint(gw.keyPair.publicKey.fingerprint)}${gw.keyCreated ? ' (new key)' : ''}\n` +
      `spool ${gw.spool.objectPath('0'.repeat(64)).split('/objects/')[0]}\n`,
  );
  await gw.start();
  const resumed = gw.recorder.status();
  if (resumed) out.write(`resumed recording ${resumed.recording} of case ${resumed.caseId}\n`);
  else if (opts.record) {
    const s = await gw.recorder.start(opts.record);
    out.write(`recording ${s.recording} of case ${s.caseId} started\n`);
  }
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    gw.log.info(
      { signal },
      'shutting down: sealing every camera tail; a running recording resumes on the next start',
    );
    metrics.close();
    Promise.all([listener?.close(), gw.close()]).then(
      () => process.exit(0),
      (err: Error) => {
        gw.log.error({ err: { message: err.message } }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  return gw;
}

/** The uplink a config names: its broker and object store (S3, or a local folder); none without both. */
export function uplinkOf(config: GatewayConfig): GatewayDeps {
  const { mqttUrl, store, storeDir } = config.ingest;
  const target = store ?? (storeDir ? { kind: 'fs' as const, root: storeDir } : null);
  return mqttUrl && target ? { uplink: { mqttUrl, store: openStore(target) } } : {};
}
