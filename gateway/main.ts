/** @module Runs a gateway process: loads the config, builds the gateway, resumes, handles signals. Nothing else. */

import { join } from 'node:path';
import type { GatewayConfig } from '../firmware-config/gateway-config.ts';
import { loadGatewayConfig } from '../firmware-config/load.ts';
import { displayCertificateFingerprint } from '../protocol/tls/certificates.ts';
import { openStore } from '../store/open-store.ts';
import { GatewayHost } from './config-push/gateway-host.ts';
import { serveConsole } from './console/serve-console.ts';
import { buildGateway, type Gateway, type GatewayDeps } from './gateway.ts';
import { displayFingerprint } from './identity.ts';
import { createGatewayMetrics, serveMetrics } from './metrics.ts';
import type { RecordingElements } from './recording/room-recorder.ts';
import type { UplinkTls } from './uplink/connect.ts';

/** Options of a gateway run. */
export interface GatewayRunOptions {
  config: string;
  /** Start a recording at once with these elements, unless one is already running. */
  record?: RecordingElements;
}

/** Starts the gateway and resolves once it runs; it stops on SIGINT/SIGTERM (a recording resumes on restart). */
export async function runGateway(opts: GatewayRunOptions, out = process.stdout): Promise<Gateway> {
  const loaded = await loadGatewayConfig(opts.config);
  // Signed configuration push (issue 9): the host runs the version in force and rebuilds on a new one.
  const host = new GatewayHost({
    base: loaded,
    build: (l, configVersion) => buildGateway(l, { ...uplinkOf(l.config), configVersion }),
  });
  await host.start();
  const gw = host.gateway;
  // Operations (issue 9): metrics follow the rebuilt gateway; a listener of their own when configured.
  let metrics = createGatewayMetrics(gw);
  host.on('rebuilt', (next) => {
    metrics.close();
    metrics = createGatewayMetrics(next);
  });
  const listener = loaded.config.metrics
    ? await serveMetrics(loaded.config.metrics.host, loaded.config.metrics.port, () => metrics.registry)
    : null;
  if (listener) out.write(`metrics ${listener.url}\n`);
  // Operator console (issue 6): the room's page and local REST API, rebuilt with the gateway.
  const operatorConsole = await serveConsole(host, loaded);
  out.write(`operator console ${operatorConsole.url}\n`);
  if (operatorConsole.caFingerprint)
    out.write(
      `operator console CA fingerprint ${displayCertificateFingerprint(operatorConsole.caFingerprint)}\n`,
    );
  else out.write('WARNING: the operator console speaks plain text (console.tls.mode: off)\n');
  if (/^mqtt:/i.test(loaded.config.ingest.mqttUrl ?? ''))
    out.write('WARNING: MQTT to the ingest speaks plain text (ingest.tls.plaintext: true)\n');
  out.write(
    `gateway ${gw.id} · room ${loaded.config.room.id} (${loaded.profile.name}) · ${loaded.config.cameras.length} camera(s)\n` +
      `key fingerprint ${displayFingerprint(gw.keyPair.publicKey.fingerprint)}${gw.keyCreated ? ' (new key)' : ''}\n` +
      `spool ${gw.spool.objectPath('0'.repeat(64)).split('/objects/')[0]}\n`,
  );
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
    Promise.all([listener?.close(), operatorConsole.close(), host.close()]).then(
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
  return mqttUrl && target ? { uplink: { mqttUrl, store: openStore(target), tls: uplinkTls(config) } } : {};
}

/** The uplink's TLS (issue 10): the configured CA or fingerprint, the pin file, and the client certificate. */
export function uplinkTls(config: GatewayConfig): UplinkTls {
  const { dataDir } = config.gateway;
  const { caFile, caFingerprint, certFile } = config.ingest.tls;
  return {
    caFile,
    caFingerprint,
    pinFile: join(dataDir, 'ingest-ca.pem'),
    certFile: certFile ?? join(dataDir, 'gateway-cert.pem'),
  };
}
