/** Bad input on every field and parameter of the console API: clear coded errors by field, nothing recorded. */
import t from 'tap';
import { tmp } from '../helpers/recording.ts';
import { consoleConfig, GOOD_FORM, gatewayWithConsole } from './console-support.ts';

type ErrorBody = { error: { code: string; message: string; fields?: Record<string, { code: string }[]> } };

t.test(
  'every missing or invalid Start element is refused at its field and nothing is recorded',
  async (t) => {
    const dir = tmp(t, 'quanlu-console-');
    const { gw, console } = await gatewayWithConsole(t, consoleConfig(dir));
    const app = console.app;
    const cases: { name: string; body: unknown; field: string; code: string }[] = [
      { name: 'empty case id', body: { ...GOOD_FORM, caseId: '' }, field: 'caseId', code: 'required' },
      { name: 'no case id', body: { ...GOOD_FORM, caseId: undefined }, field: 'caseId', code: 'required' },
      {
        name: 'case id with a slash',
        body: { ...GOOD_FORM, caseId: 'A/B' },
        field: 'caseId',
        code: 'pattern',
      },
      {
        name: 'case id with a space',
        body: { ...GOOD_FORM, caseId: 'A B' },
        field: 'caseId',
        code: 'pattern',
      },
      { name: 'case id as a number', body: { ...GOOD_FORM, caseId: 42 }, field: 'caseId', code: 'invalid' },
      { name: 'no matter', body: { ...GOOD_FORM, matter: '' }, field: 'matter', code: 'required' },
      {
        name: 'matter not on the list',
        body: { ...GOOD_FORM, matter: 'karaoke' },
        field: 'matter',
        code: 'unknown',
      },
      {
        name: 'matter of another room kind',
        body: { ...GOOD_FORM, matter: 'penalty-hearing' },
        field: 'matter',
        code: 'unknown',
      },
      {
        name: 'one officer',
        body: { ...GOOD_FORM, officers: ['31010001'] },
        field: 'officers',
        code: 'too-few',
      },
      { name: 'no officers', body: { ...GOOD_FORM, officers: [] }, field: 'officers', code: 'too-few' },
      {
        name: 'the same officer twice',
        body: { ...GOOD_FORM, officers: ['31010001', '31010001'] },
        field: 'officers',
        code: 'duplicate',
      },
      {
        name: 'an officer not on the list',
        body: { ...GOOD_FORM, officers: ['31010001', '99999999'] },
        field: 'officers',
        code: 'unknown',
      },
      {
        name: 'a malformed credential number',
        body: { ...GOOD_FORM, officers: ['31010001', '<script>'] },
        field: 'officers',
        code: 'format',
      },
      {
        name: 'officers not a list',
        body: { ...GOOD_FORM, officers: '31010001' },
        field: 'officers',
        code: 'invalid',
      },
      { name: 'another room', body: { ...GOOD_FORM, room: 'hearing-9' }, field: 'room', code: 'mismatch' },
      {
        name: 'started by as an object',
        body: { ...GOOD_FORM, startedBy: {} },
        field: 'startedBy',
        code: 'invalid',
      },
    ];
    for (const c of cases) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/recording/start',
        payload: c.body as object,
      });
      t.equal(res.statusCode, 400, `${c.name}: 400`);
      const body = res.json() as ErrorBody;
      t.ok(['GW_RECORDING_ELEMENTS', 'GW_CONSOLE_BAD_REQUEST'].includes(body.error.code), `${c.name}: coded`);
      t.ok(
        body.error.fields?.[c.field]?.some((e) => e.code === c.code),
        `${c.name}: ${c.field} carries ${c.code} (got ${JSON.stringify(body.error.fields)})`,
      );
    }
    const both = await app.inject({
      method: 'POST',
      url: '/api/v1/recording/start',
      payload: { caseId: '', officers: ['31010001'], matter: 'inquiry' },
    });
    t.same(
      Object.keys((both.json() as ErrorBody).error.fields ?? {}).sort(),
      ['caseId', 'officers'],
      'every problem at once',
    );
    const extra = await app.inject({
      method: 'POST',
      url: '/api/v1/recording/start',
      payload: { ...GOOD_FORM, x: 1 },
    });
    t.equal(extra.statusCode, 400, 'an unknown field is refused');
    t.equal((extra.json() as ErrorBody).error.code, 'GW_CONSOLE_BAD_REQUEST');
    const notJson = await app.inject({
      method: 'POST',
      url: '/api/v1/recording/start',
      headers: { 'content-type': 'application/json' },
      payload: '{',
    });
    t.equal(notJson.statusCode, 400, 'a body that is not JSON is refused');

    t.equal(gw.recorder.status(), null, 'no recording runs');
    t.equal(gw.spool.activeRecording(), null, 'no recording was begun in the spool');
    t.equal(gw.spool.backlog().entries, 0, 'no entry was sealed');
    const status = (await app.inject({ url: '/api/v1/recording' })).json() as { state: string };
    t.equal(status.state, 'idle');
  },
);

t.test(
  'stop without confirm, stop with nothing running and bad preview parameters are refused',
  async (t) => {
    const dir = tmp(t, 'quanlu-console-');
    const { gw, console } = await gatewayWithConsole(t, consoleConfig(dir));
    const app = console.app;
    const noConfirm = await app.inject({ method: 'POST', url: '/api/v1/recording/stop', payload: {} });
    t.equal(noConfirm.statusCode, 400);
    t.equal((noConfirm.json() as ErrorBody).error.code, 'GW_CONSOLE_BAD_REQUEST');
    const falseConfirm = await app.inject({
      method: 'POST',
      url: '/api/v1/recording/stop',
      payload: { confirm: false },
    });
    t.equal(falseConfirm.statusCode, 400);
    t.equal((falseConfirm.json() as ErrorBody).error.code, 'GW_STOP_UNCONFIRMED');
    const stringConfirm = await app.inject({
      method: 'POST',
      url: '/api/v1/recording/stop',
      payload: { confirm: 'yes' },
    });
    t.equal(stringConfirm.statusCode, 400, 'confirm must be a boolean');
    const nothing = await app.inject({
      method: 'POST',
      url: '/api/v1/recording/stop',
      payload: { confirm: true },
    });
    t.equal(nothing.statusCode, 409);
    t.equal((nothing.json() as ErrorBody).error.code, 'GW_RECORDING_NONE');
    const badTrack = await app.inject({ url: '/api/v1/preview/..%2Fetc/playlist.m3u8' });
    t.equal(badTrack.statusCode, 400, 'a track id that is not one is refused');
    const badFile = await app.inject({ url: '/api/v1/preview/cam-1/segments/passwd' });
    t.equal(badFile.statusCode, 400, 'a segment name that is not <sha256>.ts is refused');
    const noSegment = await app.inject({ url: `/api/v1/preview/cam-1/segments/${'a'.repeat(64)}.ts` });
    t.equal(noSegment.statusCode, 404, 'a segment of no running recording is not served');
    t.equal(gw.spool.backlog().entries, 0, 'nothing was sealed');
  },
);

t.test(
  'the room lists cameras, profile, required elements, matters and officers; OpenAPI documents the API',
  async (t) => {
    const dir = tmp(t, 'quanlu-console-');
    const { console } = await gatewayWithConsole(t, consoleConfig(dir, 2));
    const room = (await console.app.inject({ url: '/api/v1/room' })).json() as {
      room: { id: string };
      cameras: { id: string }[];
      requiredElements: { officersMin: number };
      matters: { id: string }[];
      officers: { source: string; list: { id: string }[] };
    };
    t.equal(room.room.id, 'interview-1');
    t.same(
      room.cameras.map((c) => c.id),
      ['cam-1', 'cam-2'],
    );
    t.equal(room.requiredElements.officersMin, 2);
    t.ok(room.matters.some((m) => m.id === 'inquiry'));
    t.equal(room.officers.source, 'file');
    t.equal(room.officers.list.length, 3);
    const doc = (await console.app.inject({ url: '/api/v1/openapi.json' })).json() as {
      paths: Record<string, unknown>;
    };
    for (const path of [
      '/api/v1/room',
      '/api/v1/recording',
      '/api/v1/recording/start',
      '/api/v1/recording/stop',
    ]) {
      t.ok(doc.paths[path], `${path} is documented`);
    }
    const page = await console.app.inject({ url: '/' });
    t.equal(page.statusCode, 200);
    t.match(page.headers['content-security-policy'], /default-src 'self'/);
    const hls = await console.app.inject({ url: '/vendor/hls.min.js' });
    t.equal(hls.statusCode, 200, 'hls.js is served from node_modules');
  },
);
