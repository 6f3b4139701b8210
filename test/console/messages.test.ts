/** The operator console's message catalogue: both languages have the same keys, and every key the page uses exists. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';

const WEB = join(import.meta.dirname, '..', '..', 'gateway', 'console', 'web');
type Catalogue = Record<string, string>;
const { LANGUAGES, messages } = (await import(pathToFileURL(join(WEB, 'messages.js')).href)) as {
  LANGUAGES: string[];
  messages: Record<string, Catalogue>;
};

t.test('zh-CN is the default and both languages have the same keys', async (t) => {
  t.equal(LANGUAGES[0], 'zh-CN');
  const zh = Object.keys(messages['zh-CN']!).sort();
  const en = Object.keys(messages.en!).sort();
  t.same(en, zh);
  for (const key of zh) {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    t.same(names(messages.en![key]!), names(messages['zh-CN']![key]!), `${key}: same placeholders`);
  }
});

t.test('every data-i18n key and every literal t() key of the page is in the catalogue', async (t) => {
  const keys = new Set(Object.keys(messages['zh-CN']!));
  for (const file of readdirSync(WEB).filter((f) => f.endsWith('.html') || f.endsWith('.js'))) {
    const text = readFileSync(join(WEB, file), 'utf8');
    const used = [
      ...[...text.matchAll(/data-i18n="([^"]+)"/g)].map((m) => m[1]!),
      ...[...text.matchAll(/\bt\('([^']+)'/g)].map((m) => m[1]!),
    ];
    for (const key of used) t.ok(keys.has(key), `${file}: ${key}`);
  }
});

t.test('every field error code, alarm kind and camera state the server sends has a message', async (t) => {
  const keys = new Set(Object.keys(messages['zh-CN']!));
  const form = readFileSync(join(WEB, '..', 'start-form.ts'), 'utf8');
  for (const [, code] of form.matchAll(/code: '([a-z-]+)'/g))
    t.ok(keys.has(`field.${code}`), `field.${code}`);
  t.ok(keys.has('field.invalid'), 'field.invalid (schema failures)');
  const alarms = readFileSync(join(WEB, '..', 'alarms.ts'), 'utf8');
  for (const [, kind] of alarms.matchAll(/code: `?'?([a-z-]+)[:'`]/g))
    t.ok(keys.has(`alarm.${kind}`), `alarm.${kind}`);
  for (const state of ['starting', 'recording', 'down', 'stopping', 'stopped'])
    t.ok(keys.has(`cam.state.${state}`));
});
