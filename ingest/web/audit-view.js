/** @module The audit log for auditors and administrators: who saw what, when, from where and why, filtered and paged. */
import { api } from './api.js';
import { field, h, replace } from './dom.js';
import { errorBox } from './feedback.js';
import { formatTime, has, t } from './i18n.js';
import { isoFromLocalInput, localInputValue } from './search-view.js';

/** Records per page. */
export const AUDIT_PAGE_SIZE = 50;

/** The audited actions (ingest/auth/audit-chain.ts; a test keeps the two lists equal), in the filter's order. */
export const AUDIT_ACTIONS = [
  'sign-in',
  'sign-in-failed',
  'sign-out',
  'search',
  'view-recording',
  'playlist',
  'media',
  'download',
  'verify',
  'access-reason',
  'access-refused',
  'user-add',
  'user-change',
  'token-issue',
  'gateway-approve',
  'gateway-revoke',
  'export',
  'fixity-alarm',
  'officers-import',
  'device-assign',
  'footage-assign',
  'retention-set',
  'legal-hold',
  'legal-hold-release',
  'retention-delete',
  'retention-refused',
];

/** An action in words (unknown actions show as they are). */
export function actionText(action) {
  return has(`action.${action}`) ? t(`action.${action}`) : action;
}

/** Renders the filter form and the page of audit records the URL asks for. */
export function renderAudit(container, { query, navigate }) {
  const user = h('input', {
    id: 'a-user',
    name: 'user',
    value: query.get('user') ?? '',
    autocomplete: 'off',
  });
  const recording = h('input', { id: 'a-recording', name: 'recording', value: query.get('recording') ?? '' });
  const action = h(
    'select',
    { id: 'a-action', name: 'action' },
    h('option', { value: '' }, t('audit.anyAction')),
    AUDIT_ACTIONS.map((a) => h('option', { value: a, selected: query.get('action') === a }, actionText(a))),
  );
  const from = h('input', {
    id: 'a-from',
    type: 'datetime-local',
    value: localInputValue(query.get('from')),
  });
  const to = h('input', { id: 'a-to', type: 'datetime-local', value: localInputValue(query.get('to')) });
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'panel search', role: 'search' },
    h('h2', {}, t('audit.title')),
    h(
      'div',
      { class: 'grid' },
      field(t('audit.user'), user),
      field(t('audit.recording'), recording),
      field(t('audit.action'), action),
      field(t('audit.from'), from),
      field(t('audit.to'), to),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('audit.submit'))),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    if (user.value.trim()) q.set('user', user.value.trim());
    if (recording.value.trim()) q.set('recording', recording.value.trim());
    if (action.value) q.set('action', action.value);
    if (isoFromLocalInput(from.value)) q.set('from', isoFromLocalInput(from.value));
    if (isoFromLocalInput(to.value)) q.set('to', isoFromLocalInput(to.value));
    navigate(`/audit?${q}`);
  });
  replace(container, form, results);

  const offset = Math.max(0, Number.parseInt(query.get('offset') ?? '0', 10) || 0);
  const criteria = { limit: AUDIT_PAGE_SIZE, offset };
  for (const k of ['user', 'recording', 'action', 'from', 'to']) if (query.get(k)) criteria[k] = query.get(k);
  let alive = true;
  replace(results, h('p', { class: 'muted' }, t('common.loading')));
  api.audit(criteria).then(
    (page) => alive && replace(results, auditTable(page, offset, query, navigate)),
    (err) =>
      alive &&
      replace(
        results,
        errorBox(err, err.code === 'INGEST_BAD_REQUEST' ? h('p', { class: 'detail' }, err.message) : null),
      ),
  );
  return () => {
    alive = false;
  };
}

function auditTable(page, offset, query, navigate) {
  if (!page.items.length) return h('p', { class: 'empty' }, t('audit.none'));
  const cols = ['at', 'user', 'role', 'address', 'action', 'recording', 'track', 'reason'];
  const rows = page.items.map((r) =>
    h(
      'tr',
      { dataset: { action: r.action } },
      h('td', {}, formatTime(r.at)),
      h('td', {}, r.user ?? ''),
      h('td', {}, r.role ? t(`role.${r.role}`) : ''),
      h('td', {}, r.address ?? ''),
      h('td', {}, actionText(r.action)),
      h(
        'td',
        {},
        r.recording ? h('a', { href: `#/recording/${encodeURIComponent(r.recording)}` }, r.recording) : '',
      ),
      h('td', {}, r.track ?? ''),
      h('td', {}, r.reason ?? ''),
    ),
  );
  const pages = Math.max(1, Math.ceil(page.total / AUDIT_PAGE_SIZE));
  const pageNo = Math.floor(offset / AUDIT_PAGE_SIZE) + 1;
  const go = (to) => {
    const q = new URLSearchParams(query);
    q.set('offset', String(to));
    navigate(`/audit?${q}`);
  };
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'list audit' },
      h('caption', {}, t('audit.total', { total: page.total })),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          cols.map((c) => h('th', { scope: 'col' }, t(`audit.col.${c}`))),
        ),
      ),
      h('tbody', {}, rows),
    ),
    h(
      'nav',
      { class: 'pager', 'aria-label': t('pager.label') },
      h(
        'button',
        { type: 'button', disabled: pageNo <= 1, onclick: () => go(offset - AUDIT_PAGE_SIZE) },
        t('pager.prev'),
      ),
      h('span', {}, t('pager.page', { page: pageNo, pages })),
      h(
        'button',
        { type: 'button', disabled: pageNo >= pages, onclick: () => go(offset + AUDIT_PAGE_SIZE) },
        t('pager.next'),
      ),
    ),
  );
}
