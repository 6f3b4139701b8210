/**
 * @module Runs the operator console for the gateway's main: listens on the configured address and
 * follows a rebuilt gateway. HTTPS by default (issue 10), with the gateway's own CA made under
 * `<dataDir>/tls` on first start (protocol/tls/tls-files.ts); plain text only when `console.tls.mode`
 * is `off`, and then a warning in the log and a banner on the page.
 */
import type { LoadedGatewayConfig } from '../../firmware-config/load.ts';
import { displayCertificateFingerprint } from '../../protocol/tls/certificates.ts';
import { loadTlsMaterial } from '../../protocol/tls/tls-files.ts';
import type { Gateway } from '../gateway.ts';
import { buildConsole, type OperatorConsole } from './console-app.ts';

/** What the console follows: the running gateway, and an event when a pushed configuration rebuilt it. */
export interface GatewayHolder {
  readonly gateway: Gateway;
  /** The configuration in force (a pushed one after a rebuild); the console shows its room, matters and officers. */
  readonly loaded?: LoadedGatewayConfig;
  on(event: 'rebuilt', listener: (gateway: Gateway) => void): unknown;
}

/** A listening console. */
export interface ServedConsole {
  url: string;
  /** SHA-256 of the console CA (hex), for people to compare in their browser; null in plain text. */
  caFingerprint: string | null;
  /** The console CA (PEM): what a browser or client trusts for this console; null in plain text. */
  ca: string | null;
  current(): OperatorConsole;
  close(): Promise<void>;
}

/**
 * Builds the console of the running gateway and listens on `console.host:console.port`. When the gateway is
 * rebuilt, the console is rebuilt on it and listens again on the same port, so the page reconnects by itself.
 */
export async function serveConsole(
  holder: GatewayHolder,
  loaded: LoadedGatewayConfig,
): Promise<ServedConsole> {
  const { host, port } = loaded.config.console;
  const { dataDir, id } = loaded.config.gateway;
  const tls = await loadTlsMaterial(loaded.config.console.tls, dataDir, `quanlu console CA (${id})`, host);
  const log = holder.gateway.log.child({ component: 'console' });
  if (tls) {
    log.info({ caFingerprint: displayCertificateFingerprint(tls.caFingerprint) }, 'operator console CA');
  } else {
    log.warn(
      { code: 'GW_TLS_OFF' },
      'TLS IS OFF for the operator console (console.tls.mode: off): the page and its API speak plain text',
    );
  }
  const { mqttUrl } = loaded.config.ingest;
  if (mqttUrl && /^mqtt:/i.test(mqttUrl)) {
    log.warn(
      { code: 'GW_TLS_OFF', broker: new URL(mqttUrl).host },
      'MQTT TO THE INGEST IS PLAIN TEXT (ingest.tls.plaintext: true): evidence travels unencrypted; use only on a trusted network',
    );
  }
  const open = async (gw: Gateway, on: number) => {
    const c = await buildConsole(gw, holder.loaded ?? loaded, { tls });
    c.start();
    await c.app.listen({ host, port: on });
    return c;
  };
  let current = await open(holder.gateway, port);
  const address = current.app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  let switching: Promise<unknown> = Promise.resolve();
  holder.on('rebuilt', (next) => {
    switching = switching.then(async () => {
      await current.close();
      current = await open(next, bound);
    });
  });
  return {
    url: `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    caFingerprint: tls?.caFingerprint ?? null,
    ca: tls?.ca ?? null,
    current: () => current,
    async close() {
      await switching.catch(() => undefined);
      await current.close();
    },
  };
}
