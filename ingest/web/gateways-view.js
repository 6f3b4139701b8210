/** @module The gateways' clocks (issue 10): each gateway's offset against the ingest from its last status, beyond the limit in warning style. */
import { request } from './api.js';
import { h, replace } from './dom.js';
import { errorBox } from './feedback.js';
import { formatTime, t } from './i18n.js';
import { session } from './session.js';

/** How often the list is fetched again while shown, in ms. */
const REFRESH_MS = 10_000;

/** Whether the user's role may see the gateways (auth/policy.ts: admin, supervisor, auditor). */
export function canSeeGateways() {
  return ['admin', 'supervisor', 'auditor'].includes(session()?.user?.role);
}

/** An offset for a person: signed milliseconds, or "not measured". */
export function offsetText(ms) {
  if (ms === null || ms === undefined) return t('gateways.notMeasured');
  return t('gateways.offsetMs', { ms: `${ms > 0 ? '+' : ''}${ms}` });
}

/** Renders the list and keeps it fresh; returns the cleanup. */
export function renderGateways(container) {
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  replace(
    container,
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, t('gateways.title')),
      h('p', { class: 'muted' }, t('gateways.explain')),
      results,
    ),
  );
  let alive = true;
  replace(results, h('p', { class: 'muted' }, t('common.loading')));
  const load = () =>
    request('GET', '/api/v1/gateways/clocks').then(
      (list) => alive && replace(results, gatewayTable(list)),
      (err) => alive && replace(results, errorBox(err)),
    );
  void load();
  const timer = setInterval(load, REFRESH_MS);
  return () => {
    alive = false;
    clearInterval(timer);
  };
}

function gatewayTable(list) {
  if (!list.length) return h('p', { class: 'empty' }, t('gateways.none'));
  const cols = ['gateway', 'online', 'offset', 'at'];
  const rows = list.map((g) =>
    h(
      'tr',
      { class: g.warning ? 'clock-warning' : null, dataset: { gateway: g.gateway } },
      h('td', {}, g.gateway),
      h('td', {}, t(g.online ? 'gateways.online' : 'gateways.offline')),
      h(
        'td',
        { class: 'clock-offset' },
        offsetText(g.clockOffsetMs),
        g.warning ? h('span', { class: 'badge warn' }, t('gateways.beyondLimit')) : null,
      ),
      h('td', {}, formatTime(g.at)),
    ),
  );
  return h(
    'table',
    { class: 'list' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        cols.map((c) => h('th', { scope: 'col' }, t(`gateways.col.${c}`))),
      ),
    ),
    h('tbody', {}, rows),
  );
}
