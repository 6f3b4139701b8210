/** @module Runs the operator console for the gateway's main: listens on the configured address and follows a rebuilt gateway. */
import type { LoadedGatewayConfig } from '../../firmware-config/load.ts';
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
  const open = async (gw: Gateway, on: number) => {
    const c = await buildConsole(gw, holder.loaded ?? loaded);
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
    url: `http://${host}:${bound}`,
    current: () => current,
    async close() {
      await switching.catch(() => undefined);
      await current.close();
    },
  };
}
