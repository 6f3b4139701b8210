/** `quanlu gateway record start|stop|status --console URL` drives the console's REST API; refusals come back coded, by field. */
import { Writable } from 'node:stream';
import { Command } from 'commander';
import t from 'tap';
import { recordCommand } from '../../gateway/console/record-cli.ts';
import { sealed, tmp } from '../helpers/recording.ts';
import { consoleConfig, gatewayWithConsole } from './console-support.ts';

function program(): { run: (args: string[]) => Promise<void>; text: () => string } {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    run: async (args) => {
      const p = new Command('quanlu').exitOverride();
      recordCommand(p.command('gateway'), out);
      await p.parseAsync(['node', 'quanlu', 'gateway', 'record', ...args]);
    },
    text: () => text,
  };
}

t.test('the CLI starts, shows and stops a recording through the console API', async (t) => {
  const dir = tmp(t, 'quanlu-cli-');
  const { gw, console } = await gatewayWithConsole(t, consoleConfig(dir));
  const url = await console.app.listen({ host: '127.0.0.1', port: 0 });
  const cli = program();
  await t.rejects(
    cli.run(['start', '--console', url, '--case', 'A/B', '--matter', 'inquiry', '--officer', '31010001']),
    { code: 'GW_RECORDING_ELEMENTS', message: /caseId: .*\n.*officers: at least 2/s },
    'a refused start names every field',
  );
  t.equal(gw.recorder.status(), null, 'nothing recorded');
  await cli.run([
    'start',
    '--console',
    url,
    '--case',
    'CLI-2026-1',
    '--matter',
    'inquiry',
    '--officer',
    '31010001',
    '31010002',
  ]);
  t.match(cli.text(), /recording [0-9a-f-]{36} of case CLI-2026-1 started/);
  await sealed(gw, 'cam-1', 'segment', 1);
  await cli.run(['status', '--console', url]);
  t.match(cli.text(), /cam-1: recording, \d+ segments/);
  await cli.run(['stop', '--console', url, '--yes']);
  t.match(cli.text(), /stopped after \d+ s: \d+ segments, \d+ gaps, \d+ entries await acknowledgement/);
  t.equal(gw.recorder.status(), null);
  await t.rejects(cli.run(['stop', '--console', url, '--yes']), { code: 'GW_RECORDING_NONE' });
  await t.rejects(cli.run(['status', '--console', 'http://127.0.0.1:1']), { code: 'GW_CONSOLE_UNREACHABLE' });
});
