/** @module How the console tells people what went wrong: every coded error through the catalogue, never a blank page. */
import { h } from './dom.js';
import { has, t } from './i18n.js';

/** The catalogue key of an error's message: `error.<CODE>` when the catalogue knows the code. */
export function errorKey(err) {
  const code = err?.code;
  return code && has(`error.${code}`) ? `error.${code}` : 'error.unknown';
}

/** A person's message for an error, with its code kept visible for support. */
export function errorText(err) {
  const key = errorKey(err);
  return key === 'error.unknown' ? t(key, { code: err?.code ?? err?.message ?? '?' }) : t(key);
}

/** An alert box for an error, announced by screen readers. */
export function errorBox(err, ...extra) {
  return h(
    'div',
    { class: 'alert', role: 'alert', dataset: { code: err?.code ?? '' } },
    h('p', {}, errorText(err)),
    ...extra,
  );
}

/** A whole-page message when access to a page is refused or it cannot load. */
export function refusedPage(err) {
  return h(
    'section',
    { class: 'panel refused' },
    h('h2', {}, t(err?.status === 403 ? 'refused.title' : 'failed.title')),
    errorBox(err),
    h('p', {}, h('a', { href: '#/search' }, t('refused.back'))),
  );
}

let flashTimer = null;

/** Shows a short message in the page's status line (polite live region). */
export function flash(text, kind = 'info') {
  const el = document.getElementById('flash');
  if (!el) return;
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => {
    el.hidden = true;
  }, 8000);
}
