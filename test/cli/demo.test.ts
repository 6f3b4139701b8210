/** @module The README's first command: `quanlu demo` records, serves both consoles, stops by itself, exports and verifies. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import t from 'tap';
import { tmp } from '../helpers/recording.ts';

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
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    const operator = /operator console[^:]*: (http:\/\/\S+?)\/\n/.exec(d);
    if (operator) {
      checked.push(
        fetch(`${operator[1]}/api/v1/room`).then(async (res) => {
          t.equal(res.status, 200, 'the operator console answers while the demo runs');
          t.match(await res.json(), { cameras: [{}, {}] }, 'and shows the two demo cameras');
        }),
      );
    }
    const ingest = /^console: (http:\/\/\S+?)\/ /m.exec(d);
    if (ingest) {
      checked.push(
        fetch(`${ingest[1]}/`).then((res) => {
          t.equal(res.status, 200, 'the supervisor console page is served');
        }),
      );
    }
  });
  const [code] = await once(child, 'exit');
  await Promise.all(checked);
  t.equal(checked.length, 2, 'both console addresses were printed');
  t.equal(code, 0, `the demo exits 0 (stderr: ${err.slice(-500)})`);
  t.match(out, /admin\s+admin \/ \S{12,}/, 'the demo prints the administrator credentials');
  t.match(out, /RESULT: OK/, 'the exported recording verifies');
});
