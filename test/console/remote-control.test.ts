/** Remote control through a real ingest (PGlite, embedded broker): repeated starts make one recording; stop shows at the console. */
import { once } from 'node:events';
import t from 'tap';
import { loadOrCreateIdentity } from '../../gateway/identity.ts';
import { startIngest } from '../../ingest/app.ts';
import { newApiToken, secretHash } from '../../ingest/auth/tokens.ts';
import { addUser } from '../../ingest/auth/users.ts';
import { sendCommand } from '../../ingest/control/commands.ts';
import { sealed, tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import { consoleConfig, GOOD_FORM, gatewayWithConsole, quiet } from './console-support.ts';

const CASE = {
  id: GOOD_FORM.caseId,
  matter: GOOD_FORM.matter,
  officers: GOOD_FORM.officers,
  room: 'interview-1',
};

t.test(
  'remote start three times makes one recording; a lost connection does not stop it; remote stop shows at the console',
  async (t) => {
    t.setTimeout(120_000);
    const dir = tmp(t, 'quanlu-remote-');
    const loaded = consoleConfig(`${dir}/gateway`);
    const identity = loadOrCreateIdentity(loaded.config.gateway.dataDir, loaded.config.gateway.id);
    const ingest = await startIngest(
      {
        dataDir: `${dir}/ingest`,
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        tls: PLAINTEXT,
        log: { level: 'warn' },
      },
      { log: quiet, autoApprove: [identity.keyPair.publicKey.fingerprint] },
    );
    t.teardown(() => ingest.close());
    const { gw, console } = await gatewayWithConsole(t, loaded, {
      gateway: { uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store } },
    });
    const remote = console.remote!;
    t.ok(remote, 'a gateway with an uplink takes remote commands');
    await once(remote, 'subscribed');

    const results = [];
    for (const id of ['start-0001', 'start-0002', 'start-0003']) {
      results.push(
        await sendCommand(ingest.mqtt, gw.id, { command: 'record-start', case: CASE, id }, { by: 'sup-1' }),
      );
    }
    for (const r of results) t.equal(r.ok, true, `${r.id}: ${r.message}`);
    const recording = results[0]!.recording;
    t.match(recording, /^[0-9a-f-]{36}$/);
    t.same(
      results.map((r) => r.recording),
      [recording, recording, recording],
      'every start answers with the same recording',
    );
    t.match(results[1]!.message, /already running/);
    const repeated = await sendCommand(
      ingest.mqtt,
      gw.id,
      { command: 'record-start', case: CASE, id: 'start-0001' },
      { by: 'sup-1' },
    );
    t.same(
      { ...repeated, at: '' },
      { ...results[0]!, at: '' },
      'a repeated command id gets the first answer again',
    );
    const recordings = new Set(gw.spool.openChains().map((c) => c.recording));
    t.same([...recordings], [recording], 'the spool holds one recording');

    const other = await sendCommand(
      ingest.mqtt,
      gw.id,
      { command: 'record-start', case: { ...CASE, id: 'OTHER-1' }, id: 'start-0004' },
      { by: 'sup-1' },
    );
    t.equal(other.ok, false, 'a start for another case while recording is refused');
    t.equal(other.code, 'GW_RECORDING_ACTIVE');
    t.equal(other.recording, recording, 'and names the running recording');
    const badRoom = await sendCommand(
      ingest.mqtt,
      gw.id,
      { command: 'record-start', case: { ...CASE, room: 'hearing-9' }, id: 'start-0005' },
      { by: 'sup-1' },
    );
    t.equal(badRoom.code, 'GW_COMMAND_INVALID', 'a start for another room is refused');

    // The connection (and with it the heartbeat) is lost: the recording goes on.
    const segmentWhileDown = sealed(gw, 'cam-1', 'segment', 1);
    const reconnected = new Promise((resolve) => gw.mqtt!.once('connect', resolve));
    gw.mqtt!.stream.destroy();
    await segmentWhileDown;
    t.equal(gw.recorder.status()?.recording, recording, 'a lost connection never stops the recording');
    await reconnected;

    // Through the ingest's HTTP route, as a supervisor's console would.
    const at = new Date().toISOString();
    await addUser(
      ingest.repo,
      { username: 'sup-1', role: 'supervisor', password: 'correct horse battery 1' },
      at,
    );
    const token = newApiToken();
    await ingest.repo.insertApiToken(secretHash(token), 'sup-1', at);
    const unauthenticated = await fetch(`${ingest.httpUrl}/api/v1/gateways/${gw.id}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'record-stop' }),
    });
    t.equal(unauthenticated.status, 401, 'the route needs a session or token');
    const badBody = await fetch(`${ingest.httpUrl}/api/v1/gateways/${gw.id}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ command: 'record-pause' }),
    });
    t.equal(badBody.status, 400, 'an unknown command is refused');
    t.equal(gw.recorder.status()?.recording, recording, 'and changes nothing');
    const unknownGateway = await fetch(`${ingest.httpUrl}/api/v1/gateways/gw-nobody/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ command: 'record-stop' }),
    });
    t.equal(unknownGateway.status, 404, 'an unknown gateway is refused');
    const stop = await fetch(`${ingest.httpUrl}/api/v1/gateways/${gw.id}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ command: 'record-stop', id: 'stop-0001' }),
    });
    t.equal(stop.status, 200);
    const stopped = (await stop.json()) as { ok: boolean; recording: string };
    t.equal(stopped.ok, true);
    t.equal(stopped.recording, recording);
    const status = (await console.app.inject({ url: '/api/v1/recording' })).json() as {
      state: string;
      lastStopped: { recording: string } | null;
    };
    t.equal(status.state, 'idle', "the room's console shows the recording stopped");
    t.equal(status.lastStopped?.recording, recording);
    const again = await sendCommand(
      ingest.mqtt,
      gw.id,
      { command: 'record-stop', id: 'stop-0002' },
      { by: 'sup-1' },
    );
    t.equal(again.ok, true, 'a stop when stopped is answered, idempotent by state');
    t.equal(again.recording, recording);
  },
);
