/** @module The console's message catalogue: both languages carry the same keys, and no view writes text outside it. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { WEB_ROOT } from '../../ingest/api/web-routes.ts';
import { AUDIT_ACTIONS } from '../../ingest/auth/audit-chain.ts';
import { Role } from '../../ingest/auth/roles.ts';
import { GapReason } from '../../protocol/entry.ts';

type Catalogue = { LANGUAGES: string[]; messages: Record<string, Record<string, string>> };
const { LANGUAGES, messages } = (await import(
  pathToFileURL(join(WEB_ROOT, 'messages.js')).href
)) as Catalogue;
const auditView = (await import(pathToFileURL(join(WEB_ROOT, 'audit-view.js')).href).catch(() => null)) as {
  AUDIT_ACTIONS: string[];
} | null;

const zh = messages['zh-CN']!;
const en = messages.en!;
const scripts = readdirSync(WEB_ROOT).filter((f) => f.endsWith('.js') && f !== 'messages.js');
const source = (f: string) => readFileSync(join(WEB_ROOT, f), 'utf8');

/** Source without comments (a simple scan: no comment markers live inside strings in these files). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Every string literal of a script ('…', "…", and the fixed parts of `…`). */
function literals(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g)) {
    const s = m[1] ?? m[2] ?? m[3] ?? '';
    if (m[3] !== undefined) out.push(...s.split(/\$\{[^}]*\}/));
    else out.push(s);
  }
  return out;
}

const KEY_NAMESPACES =
  /^(app|nav|lang|header|role|common|signIn|session|search|pager|recording|player|verify|timeline|gap|reason|audit|action|refused|failed|error|gateways)\.[\w.-]+$/;

t.test('zh-CN is the default language and both languages have exactly the same keys', async (t) => {
  t.same(LANGUAGES, ['zh-CN', 'en']);
  t.same(Object.keys(en).sort(), Object.keys(zh).sort(), 'same keys');
  for (const [k, v] of Object.entries(zh)) {
    t.ok(v.trim().length > 0, `zh-CN ${k} is not empty`);
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    t.same(names(en[k]!), names(v), `${k}: same placeholders in both languages`);
  }
});

t.test('every catalogue key a view or the page names exists', async (t) => {
  const used = new Set<string>();
  for (const f of scripts) {
    // A literal ending in '.' is the fixed part of a key built at run time: checked by the next test.
    for (const s of literals(withoutComments(source(f))))
      if (KEY_NAMESPACES.test(s) && !s.endsWith('.')) used.add(s);
  }
  for (const m of source('index.html').matchAll(/data-i18n(?:-[a-z-]+)?="([^"]+)"/g)) used.add(m[1]!);
  t.ok(used.size > 60, `${used.size} keys named`);
  for (const k of used) t.ok(Object.hasOwn(zh, k), `${k} is in the catalogue`);
});

t.test('keys built at run time cover every value they are built from', async (t) => {
  for (const r of Role.options) t.ok(zh[`role.${r}`], `role.${r}`);
  for (const r of GapReason.options) t.ok(zh[`gap.reason.${r}`], `gap.reason.${r}`);
  for (const a of AUDIT_ACTIONS) t.ok(zh[`action.${a}`], `action.${a}`);
  for (const s of ['verified', 'pending', 'broken']) t.ok(zh[`verify.${s}`], `verify.${s}`);
  for (const k of ['caseId', 'officer', 'room', 'matter']) t.ok(zh[`search.${k}`], `search.${k}`);
  for (const c of ['caseId', 'matter', 'room', 'officers', 'started', 'ended']) t.ok(zh[`search.col.${c}`]);
  for (const c of ['at', 'user', 'role', 'address', 'action', 'recording', 'track', 'reason'])
    t.ok(zh[`audit.col.${c}`], `audit.col.${c}`);
  // The codes of scratch/contract-5.md the console shows in words.
  for (const code of [
    'INGEST_AUTH_FAILED',
    'INGEST_UNAUTHENTICATED',
    'INGEST_FORBIDDEN',
    'INGEST_REASON_REQUIRED',
    'INGEST_RATE_LIMITED',
    'INGEST_BAD_REQUEST',
    'INGEST_NOT_FOUND',
    'INGEST_RANGE_INVALID',
    'INGEST_CSRF',
  ])
    t.ok(zh[`error.${code}`], `error.${code}`);
  t.same(auditView?.AUDIT_ACTIONS, [...AUDIT_ACTIONS], "the audit filter lists the auth module's actions");
});

t.test('no view or page writes a person-readable string outside the catalogue (simple scan)', async (t) => {
  const cjk = /[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]/;
  const prose = (s: string) => / /.test(s) && (/^[A-Z][a-z]+\b/.test(s) || /[a-z][.!?:]$/.test(s));
  for (const f of scripts) {
    const code = withoutComments(source(f));
    for (const s of literals(code)) {
      t.notOk(cjk.test(s), `${f}: no Chinese text in a literal (${s})`);
      t.notOk(prose(s), `${f}: no English sentence in a literal (${s})`);
    }
    t.notMatch(
      code,
      /\.(textContent|innerText|innerHTML|title|placeholder)\s*=\s*['"`][^'"`]/,
      `${f}: no literal text set`,
    );
    t.notMatch(
      code,
      /setAttribute\(\s*'(aria-label|title|placeholder|alt)'\s*,\s*['"`]/,
      `${f}: no literal labels`,
    );
    t.notMatch(
      code,
      /(?<![.\w-])'?(aria-label|title|placeholder|alt)'?\s*:\s*['"`]/,
      `${f}: no literal label attributes`,
    );
    t.notMatch(code, /innerHTML/, `${f}: text is never parsed as HTML`);
  }
  const html = source('index.html');
  // The <title> is the product's name until main.js sets the translated one.
  const body = html.replace(/<(script|style|title)[\s\S]*?<\/\1>/g, '');
  for (const text of body.split(/<[^>]*>/))
    t.equal(text.trim(), '', `index.html: no text outside the catalogue (${text.trim()})`);
  t.notMatch(html, /\s(title|placeholder|aria-label|alt)="/, 'index.html: no literal labels');
});

t.test('the scan catches what it is meant to catch', async (t) => {
  const caught = (code: string) => literals(withoutComments(code));
  t.same(caught("h('p', {}, '登录失败')"), ['p', '登录失败']);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the scanned source holds a template literal
  t.same(caught('x = `Hello ${name}, welcome.`'), ['Hello ', ', welcome.']);
  t.same(caught("// 'Not a literal'\nconst a = 'b';"), ['b']);
});
