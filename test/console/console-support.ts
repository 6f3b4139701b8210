/** @module Shared pieces of the console tests: a gateway with synthetic cameras, its console, an officer file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { Test } from 'tap';
import type { LoadedGatewayConfig } from '../../firmware-config/load.ts';
import { buildConsole, type ConsoleDeps, type OperatorConsole } from '../../gateway/console/console-app.ts';
import { buildGateway, type Gateway, type GatewayDeps } from '../../gateway/gateway.ts';
import { smallSynthetic, testGatewayConfig } from '../helpers/gateway-config.ts';

/** The officers of the test officer list. */
export const OFFICERS = [
  { id: '31010001', name: '张警官' },
  { id: '31010002', name: '李警官' },
  { id: '31010003', name: '王警官' },
];

/** A Start form that passes every check. */
export const GOOD_FORM = {
  caseId: 'TEST-2026-0001',
  matter: 'inquiry',
  officers: ['31010001', '31010002'],
  startedBy: 'operator',
};

export const quiet = pino({ level: 'silent' });

/** A loaded test config over `dir` with `cameras` synthetic cameras and an officer file. */
export function consoleConfig(dir: string, cameras = 1): LoadedGatewayConfig {
  const loaded = testGatewayConfig(
    dir,
    Array.from({ length: cameras }, (_, i) => smallSynthetic(`cam-${i + 1}`, 440 + 110 * i)),
  );
  // The test room (2 s segments) stands in for an interview room, so the list's interview-room matters apply.
  loaded.profile = { ...loaded.profile, name: 'interview-room' };
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'officers.yaml');
  writeFileSync(
    file,
    `officers:\n${OFFICERS.map((o) => `  - { id: '${o.id}', name: ${o.name} }`).join('\n')}\n`,
  );
  loaded.config.console.officersFile = file;
  return loaded;
}

/** A gateway and its console (not listening), closed when the test ends unless `keep`. */
export async function gatewayWithConsole(
  t: Test,
  loaded: LoadedGatewayConfig,
  deps: { gateway?: GatewayDeps; console?: ConsoleDeps; keep?: boolean } = {},
): Promise<{ gw: Gateway; console: OperatorConsole; close: () => Promise<void> }> {
  const gw = buildGateway(loaded, { log: quiet, ...deps.gateway });
  await gw.start();
  const console = await buildConsole(gw, loaded, { log: quiet, ...deps.console });
  console.start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await console.close();
    await gw.close();
  };
  if (!deps.keep) t.teardown(close);
  return { gw, console, close };
}
