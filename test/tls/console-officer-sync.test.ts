/**
 * @module The operator console's officer sync and case look-up against a default-TLS ingest (issue 10):
 * over https they trust exactly the pinned ingest CA (pinned here from the configured fingerprint), so
 * the sync works without the system CAs; an ingest presenting another CA is refused with GW_TLS_PIN,
 * the token is never sent to it, and the last synced copy stays in force.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { z } from 'zod';
import { ingestJson } from '../../gateway/uplink/ingest-https.ts';
import { startIngest } from '../../ingest/app.ts';
import { displayCertificateFingerprint } from '../../protocol/tls/certificates.ts';
import { consoleConfig, gatewayWithConsole, quiet } from '../console/console-support.ts';
import { bearerHeaders } from '../helpers/auth.ts';
import { tmp } from '../helpers/recording.ts';
import { fetchTrusting } from '../helpers/tls.ts';

t.test(
  'a console syncs officers from a default-TLS ingest through the pinned CA and refuses an ingest with another CA',
  async (t) => {
    t.setTimeout(120_000);
    const dir = tmp(t, 'quanlu-console-tls-');
    const start = (name: string) =>
      startIngest(
        { dataDir: join(dir, name), mqtt: { kind: 'embedded', port: 0 }, http: { port: 0 } },
        { log: quiet },
      );
    const real = await start('real');
    t.teardown(() => real.close());
    const impostor = await start('impostor');
    t.teardown(() => impostor.close());
    t.match(real.httpUrl, /^https:/, 'TLS is the default');
    t.not(real.tls!.caFingerprint, impostor.tls!.caFingerprint, 'two ingests, two CAs');

    const admin = await bearerHeaders(real.repo, 'admin');
    const put = await fetchTrusting({ ca: real.tls!.ca })(`${real.httpUrl}/api/v1/officers`, {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({
        officers: [
          { number: '31010001', name: '张警官' },
          { number: '31010009', name: '周警官' },
        ],
      }),
    });
    t.equal(put.status, 200);
    const operator = await bearerHeaders(real.repo, 'operator', ['interview-1']);
    const tokenFile = join(dir, 'ingest-token');
    await writeFile(tokenFile, operator.authorization.replace('Bearer ', ''), { mode: 0o600 });

    await t.rejects(
      fetch(`${real.httpUrl}/api/v1/officers`, { headers: operator }),
      'the global fetch (system CAs only) cannot reach the ingest: what the console used before',
    );

    const loaded = consoleConfig(join(dir, 'gateway'));
    loaded.config.ingest.httpUrl = real.httpUrl;
    loaded.config.ingest.tokenFile = tokenFile;
    // As an administrator copies it off the ingest's start-up output; nothing is pinned yet.
    loaded.config.ingest.tls.caFingerprint = displayCertificateFingerprint(real.tls!.caFingerprint);
    const first = await gatewayWithConsole(t, loaded, { keep: true });
    const sync = first.console.officerSync!;
    t.equal(await sync.sync(), true, 'the list is fetched over https');
    t.same(
      sync.officers()?.map((o) => o.id),
      ['31010001', '31010009'],
      "the ingest's list is in force",
    );
    t.equal(sync.state().error, null);
    const pinFile = join(loaded.config.gateway.dataDir, 'ingest-ca.pem');
    t.equal(
      readFileSync(pinFile, 'utf8').trim(),
      real.tls!.ca.trim(),
      'the CA matching the fingerprint is pinned',
    );
    t.equal(await sync.lookupCase('TLS-2026-0001'), 'new', 'a case look-up reaches the ingest too');
    await first.close();

    // The helper on its own: JSON parsed with the schema, coded errors.
    const tls = { pinFile };
    const officers = await ingestJson(
      `${real.httpUrl}/api/v1/officers`,
      z.object({ officers: z.array(z.object({ number: z.string() })) }),
      { token: operator.authorization.replace('Bearer ', ''), tls },
    );
    t.equal(officers.officers.length, 2);
    await t.rejects(
      ingestJson(`${real.httpUrl}/api/v1/officers`, z.unknown(), { tls }),
      { code: 'GW_INGEST_HTTP', message: /HTTP 401/ },
      'a refused request is GW_INGEST_HTTP with the status',
    );
    await t.rejects(
      ingestJson(`${impostor.httpUrl}/api/v1/officers`, z.unknown(), { tls }),
      { code: 'GW_TLS_PIN' },
      'another CA: GW_TLS_PIN',
    );

    // The same gateway, now pointed at an ingest with another CA (someone in between, or the wrong ingest).
    let reached = 0;
    impostor.http.server.on('request', () => {
      reached++;
    });
    loaded.config.ingest.httpUrl = impostor.httpUrl;
    const second = await gatewayWithConsole(t, loaded, { keep: true });
    t.teardown(() => second.close());
    const moved = second.console.officerSync!;
    t.equal(await moved.sync(), false, 'the sync fails');
    const error = moved.state().error;
    t.equal(error?.code, 'GW_OFFICERS_SYNC');
    t.match(
      error?.message,
      /GW_TLS_PIN: the ingest at .* presents a certificate the pinned ingest CA does not vouch for/,
    );
    t.same(
      moved.officers()?.map((o) => o.id),
      ['31010001', '31010009'],
      'the last synced copy stays in force',
    );
    t.equal(await moved.lookupCase('TLS-2026-0001'), 'offline', 'a look-up there is accepted offline');
    t.equal(reached, 0, 'no request (and so no token) reached the impostor');
  },
);
