/** @module The console's entry: checks the session, routes #/paths to views, keeps the header and the language switch. */
import { api, onSessionExpired } from './api.js';
import { renderAudit } from './audit-view.js';
import { h, replace } from './dom.js';
import { flash, refusedPage } from './feedback.js';
import { canSeeGateways, renderGateways } from './gateways-view.js';
import { lang, onLangChange, setLang, t } from './i18n.js';
import { renderRecording } from './recording-view.js';
import { renderSearch } from './search-view.js';
import { canAudit, clearSession, session, setSession } from './session.js';
import { renderSignIn } from './sign-in-view.js';
import { checkTransport } from './transport-warning.js';

const view = document.getElementById('view');
let cleanup = null;
/** A message the sign-in page shows once (why the person landed there). */
let signInNotice = null;

/** Parses the hash: '#/recording/ID?x=1' -> { path: ['recording', 'ID'], query: URLSearchParams }. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, q = ''] = raw.split('?');
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
}

/** Goes to a console path (e.g. '/search'), re-rendering even when the hash does not change. */
export function navigate(path) {
  const next = `#${path}`;
  if (location.hash === next) route();
  else location.hash = next;
}

/** Draws the header (skip link, navigation, who is signed in, language switch, sign out) in the current language. */
function updateHeader() {
  document.documentElement.lang = lang();
  document.title = t('app.title');
  const s = session();
  const current = parseHash().path[0] ?? '';
  const link = (path, key) =>
    h('a', { href: `#/${path}`, 'aria-current': current === path ? 'page' : null }, t(key));
  replace(
    document.getElementById('top'),
    h('a', { class: 'skip', href: '#view', onclick: skipToMain }, t('nav.skip')),
    h('p', { class: 'brand' }, t('app.brand')),
    s
      ? h(
          'nav',
          { 'aria-label': t('nav.label') },
          link('search', 'nav.search'),
          canAudit() ? link('audit', 'nav.audit') : null,
          canSeeGateways() ? link('gateways', 'nav.gateways') : null,
        )
      : null,
    h(
      'div',
      { class: 'top-right' },
      s
        ? h(
            'span',
            { class: 'who' },
            t('header.who', { name: s.user.displayName || s.user.username, role: t(`role.${s.user.role}`) }),
          )
        : null,
      h(
        'button',
        { type: 'button', class: 'link', lang: lang() === 'zh-CN' ? 'en' : 'zh-CN', onclick: switchLanguage },
        t('lang.switch'),
      ),
      s ? h('button', { type: 'button', class: 'link', onclick: signOut }, t('nav.signOut')) : null,
    ),
  );
}

function skipToMain(ev) {
  ev.preventDefault();
  view.focus();
}

function switchLanguage() {
  setLang(lang() === 'zh-CN' ? 'en' : 'zh-CN');
}

async function signOut() {
  try {
    await api.signOut();
  } catch {
    // Signed out here either way; the server's session ends when it expires.
  }
  clearSession();
  signInNotice = 'session.signedOut';
  navigate('/sign-in');
}

function route() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  updateHeader();
  const { path, query } = parseHash();
  const ctx = { query, navigate, lang: lang() };
  if (!session()) {
    const notice = signInNotice;
    signInNotice = null;
    // Where the person wanted to go, so signing in takes them there.
    const back = path[0] && path[0] !== 'sign-in' ? location.hash.slice(1) : '/search';
    cleanup = renderSignIn(view, { ...ctx, notice, back, onSignedIn: signedIn });
    return;
  }
  switch (path[0]) {
    case 'recording':
      cleanup = renderRecording(view, { ...ctx, id: path[1] ?? '' });
      break;
    case 'audit':
      if (!canAudit()) replace(view, refusedPage({ status: 403, code: 'INGEST_FORBIDDEN' }));
      else cleanup = renderAudit(view, ctx);
      break;
    case 'search':
      cleanup = renderSearch(view, ctx);
      break;
    case 'gateways':
      if (!canSeeGateways()) replace(view, refusedPage({ status: 403, code: 'INGEST_FORBIDDEN' }));
      else cleanup = renderGateways(view);
      break;
    default:
      navigate('/search');
  }
}

function signedIn(body, back) {
  setSession(body);
  navigate(back && back !== '/sign-in' ? back : '/search');
}

onSessionExpired(() => {
  if (!session()) return;
  clearSession();
  signInNotice = 'session.expired';
  route();
});

onLangChange(() => route());

window.addEventListener('hashchange', route);

async function start() {
  updateHeader();
  void checkTransport(); // the plain-text warning (issue 10)
  try {
    setSession(await api.session());
  } catch (err) {
    clearSession();
    if (err.status !== 401) flash(t('error.sessionCheck'), 'error');
  }
  route();
}

start();
