/** @module Case search: case ID, officer, room, matter and a date range, paged; the criteria live in the URL so Back works. */
import { api } from './api.js';
import { field, h, replace } from './dom.js';
import { errorBox } from './feedback.js';
import { formatTime, t } from './i18n.js';

/** Results per page. */
export const PAGE_SIZE = 20;

const TEXT_FIELDS = ['caseId', 'officer', 'room', 'matter'];

/** 'YYYY-MM-DDTHH:mm' in local time (a datetime-local value) for an ISO instant, or ''. */
export function localInputValue(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The ISO instant of a datetime-local value, or '' when empty or invalid. */
export function isoFromLocalInput(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** Renders the search form and the page of results the URL asks for. */
export function renderSearch(container, { query, navigate }) {
  const inputs = {};
  for (const name of TEXT_FIELDS) {
    inputs[name] = h('input', { id: `q-${name}`, name, value: query.get(name) ?? '', autocomplete: 'off' });
  }
  for (const name of ['from', 'to']) {
    inputs[name] = h('input', {
      id: `q-${name}`,
      name,
      type: 'datetime-local',
      value: localInputValue(query.get(name)),
    });
  }
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'panel search', role: 'search' },
    h('h2', {}, t('search.title')),
    h(
      'div',
      { class: 'grid' },
      TEXT_FIELDS.map((name) => field(t(`search.${name}`), inputs[name])),
      field(t('search.from'), inputs.from),
      field(t('search.to'), inputs.to),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, t('search.submit')),
      h('button', { type: 'reset', onclick: () => setTimeout(() => navigate('/search')) }, t('search.clear')),
    ),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const name of TEXT_FIELDS) if (inputs[name].value.trim()) q.set(name, inputs[name].value.trim());
    for (const name of ['from', 'to']) {
      const iso = isoFromLocalInput(inputs[name].value);
      if (iso) q.set(name, iso);
    }
    navigate(`/search?${q}`);
  });
  replace(container, form, results);

  const offset = Math.max(0, Number.parseInt(query.get('offset') ?? '0', 10) || 0);
  const criteria = { limit: PAGE_SIZE, offset };
  for (const name of [...TEXT_FIELDS, 'from', 'to']) if (query.get(name)) criteria[name] = query.get(name);
  let alive = true;
  replace(results, h('p', { class: 'muted' }, t('common.loading')));
  api.search(criteria).then(
    (page) => alive && replace(results, resultTable(page, offset, query, navigate)),
    (err) => alive && replace(results, errorBox(err, err.code === 'INGEST_BAD_REQUEST' ? detail(err) : null)),
  );
  return () => {
    alive = false;
  };
}

function detail(err) {
  return h('p', { class: 'detail' }, err.message);
}

function resultTable(page, offset, query, navigate) {
  if (!page.recordings.length) return h('p', { class: 'empty' }, t('search.none'));
  const rows = page.recordings.map((r) =>
    h(
      'tr',
      {},
      h('td', {}, h('a', { href: `#/recording/${encodeURIComponent(r.id)}` }, r.caseId ?? t('common.none'))),
      h('td', {}, r.matter ?? ''),
      h('td', {}, r.room ?? ''),
      h('td', {}, r.officers.join(t('common.listSeparator'))),
      h('td', {}, formatTime(r.startedAt)),
      h(
        'td',
        {},
        r.endedAt ? formatTime(r.endedAt) : h('span', { class: 'badge live' }, t('recording.live')),
      ),
    ),
  );
  const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
  const pageNo = Math.floor(offset / PAGE_SIZE) + 1;
  const go = (to) => {
    const q = new URLSearchParams(query);
    q.set('offset', String(to));
    navigate(`/search?${q}`);
  };
  return h(
    'div',
    {},
    h(
      'table',
      { class: 'list' },
      h('caption', {}, t('search.total', { total: page.total })),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['caseId', 'matter', 'room', 'officers', 'started', 'ended'].map((k) =>
            h('th', { scope: 'col' }, t(`search.col.${k}`)),
          ),
        ),
      ),
      h('tbody', {}, rows),
    ),
    h(
      'nav',
      { class: 'pager', 'aria-label': t('pager.label') },
      h(
        'button',
        { type: 'button', disabled: pageNo <= 1, onclick: () => go(offset - PAGE_SIZE) },
        t('pager.prev'),
      ),
      h('span', {}, t('pager.page', { page: pageNo, pages })),
      h(
        'button',
        { type: 'button', disabled: pageNo >= pages, onclick: () => go(offset + PAGE_SIZE) },
        t('pager.next'),
      ),
    ),
  );
}
