/**
 * @module The operator page: the Start form with its errors at each field, the running recording per camera (live
 * preview by hls.js from the newest sealed segments, state, last segment age, bitrate, backlog), Stop with a
 * confirmation and the summary, and the alarms. Every view is drawn from the API, so a reload shows the same state.
 */
import {
  ApiError,
  getOfficers,
  getRecording,
  getRoom,
  getTransport,
  startRecording,
  stopRecording,
} from './api.js';
import { applyI18n, formatDuration, lang, onLangChange, setLang, t } from './i18n.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
let room = null;
let status = null;
let officers = null;
const players = new Map();

function matterName(id) {
  const m = room?.matters.find((x) => x.id === id);
  return m ? (lang() === 'en' ? m.en : m.zh) : id;
}

function renderForm() {
  const select = $('matter');
  const chosen = select.value;
  select.replaceChildren(new Option(t('form.matterPick'), ''));
  for (const m of room.matters) select.add(new Option(lang() === 'en' ? m.en : m.zh, m.id));
  select.value = chosen;
  $('officers-min').textContent = t('form.officersMin', { min: room.requiredElements.officersMin });
  const list = $('officer-list');
  if (!list.childElementCount) {
    for (const o of room.officers.list) {
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.name = 'officer';
      box.value = o.id;
      label.append(box, `${o.name} ${o.id}`);
      list.append(label);
    }
  }
  $('room-id').textContent = room.room.id;
  $('room-name').textContent = `${t('room.label')}: ${room.room.name}`;
}

function formValues() {
  const boxes = [...document.querySelectorAll('input[name=officer]:checked')].map((b) => b.value);
  const other = $('officers-other').value.split(/\s+/).filter(Boolean);
  return {
    caseId: $('caseId').value,
    matter: $('matter').value,
    officers: [...boxes, ...other],
    startedBy: 'console',
  };
}

function showFieldErrors(fields) {
  for (const p of document.querySelectorAll('.field-error')) {
    const errs = fields[p.dataset.field] ?? [];
    p.textContent = errs.map((e) => t(`field.${e.code}`, e.params ?? {})).join(' ');
    const input = p.dataset.field === 'officers' ? $('officers-other') : $(p.dataset.field);
    input?.setAttribute('aria-invalid', errs.length ? 'true' : 'false');
  }
}

function banner(text) {
  $('banner').hidden = !text;
  $('banner').textContent = text ?? '';
}

function explain(err) {
  if (err instanceof ApiError)
    return t(`error.${err.code}`) === `error.${err.code}` ? err.message : t(`error.${err.code}`);
  return t('error.network', { message: err.message });
}

async function onStart(event) {
  event.preventDefault();
  $('start').disabled = true;
  $('start').textContent = t('form.starting');
  try {
    await startRecording(formValues());
    showFieldErrors({});
    banner(null);
    await refresh();
  } catch (err) {
    showFieldErrors(err instanceof ApiError ? err.fields : {});
    banner(explain(err));
  } finally {
    $('start').disabled = false;
    $('start').textContent = t('form.start');
  }
}

async function onStop() {
  const dialog = $('stop-dialog');
  dialog.showModal();
  dialog.addEventListener(
    'close',
    async () => {
      if (dialog.returnValue !== 'confirm') return;
      try {
        const { summary } = await stopRecording();
        banner(null);
        renderSummary(summary);
        await refresh();
      } catch (err) {
        banner(explain(err));
      }
    },
    { once: true },
  );
}

function renderSummary(s) {
  if (!s) return;
  $('summary').hidden = false;
  $('summary-recording').textContent = t('summary.recording', { id: s.recording });
  $('summary-duration').textContent = t('summary.duration', { duration: formatDuration(s.durationMs) });
  $('summary-segments').textContent = t('summary.segments', { segments: s.segments, gaps: s.gaps });
  $('summary-pending').textContent = t('summary.pending', { count: s.pendingHashes.length });
}

function cameraCard(track) {
  let card = document.getElementById(`cam-${track.track}`);
  if (card) return card;
  card = document.createElement('div');
  card.className = 'camera';
  card.id = `cam-${track.track}`;
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  const lines = document.createElement('div');
  lines.className = 'lines';
  card.append(document.createElement('h3'), video, lines);
  $('cameras').append(card);
  return card;
}

function startPreview(track, video) {
  if (players.has(track) || !globalThis.Hls?.isSupported()) return;
  // The preview lists only sealed segments: what is shown is what was hashed, one segment behind live.
  const hls = new globalThis.Hls({
    enableWorker: false,
    liveSyncDurationCount: 1,
    manifestLoadingMaxRetry: 100,
  });
  hls.loadSource(`/api/v1/preview/${encodeURIComponent(track)}/playlist.m3u8`);
  hls.attachMedia(video);
  players.set(track, hls);
}

function stopPreviews() {
  for (const hls of players.values()) hls.destroy();
  players.clear();
  $('cameras').replaceChildren();
}

function renderRecording() {
  const running = status?.state === 'recording' ? status.recording : null;
  $('start-form').hidden = Boolean(running);
  $('recording').hidden = !running;
  renderAlarms();
  if (!running) {
    stopPreviews();
    if (status?.lastStopped && $('summary').hidden) renderSummary(status.lastStopped);
    return;
  }
  $('summary').hidden = true;
  $('rec-case').textContent = t('rec.case', {
    caseId: running.case.id,
    matter: matterName(running.case.matter),
  });
  $('rec-officers').textContent = t('rec.officers', { officers: running.case.officers.join(' ') });
  $('rec-duration').textContent = t('rec.duration', { duration: formatDuration(running.durationMs) });
  $('rec-offline').hidden = running.caseLookup !== 'offline';
  $('rec-case-found').hidden = running.caseLookup !== 'found';
  $('rec-case-new').hidden = running.caseLookup !== 'new';
  $('rec-uplink').textContent = t(status.uplink.connected ? 'rec.uplinkOn' : 'rec.uplinkOff');
  $('rec-backlog').textContent = t('rec.backlog', {
    entries: status.backlog.entries,
    mib: (status.backlog.bytes / 1048576).toFixed(1),
  });
  for (const track of status.tracks) {
    const card = cameraCard(track);
    card.querySelector('h3').textContent = track.name;
    const lines = [
      [`state-${track.camera}`, t(`cam.state.${track.camera}`)],
      ['', t('cam.segments', { segments: track.segments, gaps: track.gaps.length })],
      [
        '',
        track.lastSegmentAgeMs === null
          ? t('cam.noPreview')
          : t('cam.lastSegment', { age: Math.round(track.lastSegmentAgeMs / 1000) }),
      ],
      ['', track.bitrateBps === null ? '' : t('cam.bitrate', { kbps: Math.round(track.bitrateBps / 1000) })],
      ['', t('cam.pending', { pending: track.pending })],
    ];
    card.querySelector('.lines').replaceChildren(
      ...lines.map(([cls, text]) => {
        const p = document.createElement('p');
        p.className = cls;
        p.textContent = text;
        return p;
      }),
    );
    if (track.segments > 0) startPreview(track.track, card.querySelector('video'));
  }
}

function renderAlarms() {
  const alarms = status?.alarms ?? [];
  $('alarms').hidden = alarms.length === 0;
  $('alarm-list').replaceChildren(
    ...alarms.map((a) => {
      const li = document.createElement('li');
      li.className = `alarm-${a.severity}`;
      li.dataset.code = a.code;
      const kind = a.code.split(':')[0];
      li.textContent = t(`alarm.${kind}`, a.params ?? {});
      return li;
    }),
  );
}

/** Where the officer list comes from and when it was last synced from the ingest. */
function renderOfficerSync() {
  if (!officers) return;
  const sync = officers.sync;
  const at = sync?.fetchedAt ? new Date(sync.fetchedAt).toLocaleString(lang()) : '';
  let text;
  if (sync && (!sync.fetchedAt || sync.count === null)) text = t('officers.notSynced');
  else if (sync?.error) text = t('officers.syncFailed', { at });
  else if (sync) text = t('officers.synced', { count: sync.count ?? 0, at });
  else text = t(officers.source === 'file' ? 'officers.file' : 'officers.none');
  $('officers-sync').textContent = text;
}

async function refreshOfficers() {
  try {
    officers = await getOfficers();
    renderOfficerSync();
  } catch {
    // the recording view's refresh reports an unreachable console
  }
}

async function refresh() {
  try {
    status = await getRecording();
    renderRecording();
  } catch (err) {
    banner(explain(err));
  }
}

async function init() {
  applyI18n(document);
  // The plain-text warning (issue 10): shown when the console, or the uplink to the ingest, speaks without TLS.
  getTransport().then(
    (transport) => {
      const el = $('transport');
      if (transport.tls !== false && transport.uplinkTls === false) {
        el.dataset.i18n = 'app.plaintextUplink';
        el.textContent = t('app.plaintextUplink');
      }
      el.hidden = transport.tls !== false && transport.uplinkTls !== false;
    },
    () => undefined,
  );
  room = await getRoom();
  renderForm();
  $('start-form').hidden = false;
  $('start-form').addEventListener('submit', onStart);
  $('stop').addEventListener('click', onStop);
  $('lang-switch').addEventListener('click', () => setLang(lang() === 'en' ? 'zh-CN' : 'en'));
  onLangChange(() => {
    applyI18n(document);
    renderForm();
    renderRecording();
    renderOfficerSync();
  });
  await refresh();
  await refreshOfficers();
  setInterval(refresh, POLL_MS);
  setInterval(refreshOfficers, 30_000);
}

init().catch((err) => banner(explain(err)));
