/**
 * @module Kill-test child for gateway-kill.test.ts: a dock-station gateway offloading from a dock root into a
 * folder store, writing `sealed <n>` to stdout each time its count of sealed files grows. Alone it does nothing.
 */
import { writeSync } from 'node:fs';
import pino from 'pino';
import { buildGateway } from '../../gateway/gateway.ts';
import { createFsStore } from '../../store/fs-store.ts';
import { dockGatewayConfig } from './dock-support.ts';

const [dataDir, root, mqttUrl, storeRoot] = process.argv.slice(2);
if (dataDir && root && mqttUrl && storeRoot) {
  const gw = buildGateway(dockGatewayConfig(dataDir), {
    log: pino({ level: 'silent' }),
    uplink: { mqttUrl, store: createFsStore(storeRoot), republishAfterMs: 1000 },
    dock: { root, scanIntervalMs: 200, parallelFiles: 1, policy: 'wipe' },
  });
  let reported = 0;
  gw.dock!.on('change', (s) => {
    const n = s.devices.reduce((sum, d) => sum + d.files.sealed, 0);
    if (n > reported) {
      reported = n;
      // fd 1 directly, synchronously: the line is in the pipe before the next file is sealed
      writeSync(1, `sealed ${n}\n`);
    }
  });
  await gw.start();
}
