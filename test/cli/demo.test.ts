/** @module The README's first command: `quanlu demo` records, serves both consoles, stops by itself, exports and verifies. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { certificateFingerprint, displayCertificateFingerprint } from '../../protocol/tls/certificates.ts';
import { tmp } from '../helpers/recording.ts';
import { fetchTrusting } from '../helpers/tls.ts';

t.test('the demo records, serves both consoles while running, then exports and verifies', async (t) => {
  const data = join(tmp(t, 'quanlu-demo-'), 'demo');
  const child = spawn(
    process.execPath,
    [
      'bin/quanlu.js',
      'demo',
      '--data',
      data,
      '--fresh',
      '--seconds',
      '10',
      '--http-port',
      '0',
      '--console-port',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  const checked: Promise<void>[] = [];
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  // TLS by default (issue 10): each console is fetched trusting only the CA the demo printed, whose
  // file must hash to the printed fingerprint; the global fetch (system CAs only) is refused.
  const trusted = (line: RegExp) => {
    const [, file, fp] = line.exec(out)!;
    const ca = readFileSync(file!, 'utf8');
    t.equal(
      displayCertificateFingerprint(certificateFingerprint(ca)),
      fp,
      `${file} has the printed fingerprint`,
    );
    return fetchTrusting({ ca });
  };
  let seenOperator = false;
  let seenIngest = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    const operator = /operator console[^:]*: (https:\/\/\S+?)\/\n/.exec(out);
    if (operator && !seenOperator && /operator console CA /.test(out) && out.endsWith('\n')) {
      seenOperator = true;
      const f = trusted(/operator console CA (\S+) · SHA-256 (\S+)\n/);
      checked.push(
        f(`${operator[1]}/api/v1/room`).then(async (res) => {
          t.equal(res.status, 200, 'the operator console answers while the demo runs');
          t.match(await res.json(), { cameras: [{}, {}] }, 'and shows the two demo cameras');
        }),
        fetch(`${operator[1]}/api/v1/room`).then(
          () => {
            t.fail('a client without the console CA is refused');
          },
          () => {
            t.pass('a client without the console CA is refused');
          },
        ),
      );
    }
    const ingest = /^console: (https:\/\/\S+?)\/ /m.exec(out);
    if (ingest && !seenIngest) {
      seenIngest = true;
      const f = trusted(/^ingest CA (\S+) · SHA-256 (\S+)$/m);
      checked.push(
        f(`${ingest[1]}/`).then((res) => {
          t.equal(res.status, 200, 'the supervisor console page is served');
        }),
      );
    }
  });
  const [code] = await once(child, 'exit');
  await Promise.all(checked);
  t.equal(checked.length, 3, 'both console addresses were printed');
  t.equal(code, 0, `the demo exits 0 (stderr: ${err.slice(-500)})`);
  t.match(out, /admin\s+admin \/ \S{12,}/, 'the demo prints the administrator credentials');
  t.match(out, /RESULT: OK/, 'the exported recording verifies');
});
