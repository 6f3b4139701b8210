/**
 * @module The recording page: every camera side by side in sync on one master clock (PROGRAM-DATE-TIME), a
 * timeline with its gaps, the LIVE badge and jump-to-live, and each track's verification state.
 */
import { api, reasonRequiredFor, reportExpired } from './api.js';
import { h, replace } from './dom.js';
import { errorBox, refusedPage } from './feedback.js';
import { formatClock, formatTime, t } from './i18n.js';
import { followerAction, mergeGaps } from './master-clock.js';
import { askReason } from './reason-dialog.js';
import { needsReason, reasonGiven } from './session.js';
import { createTimeline, gapReasonText } from './timeline.js';
import { createTrackPlayer, loadHls } from './track-player.js';

/** How often the page re-reads the recording and its gaps while it is live or still being verified, in ms. */
export const REFRESH_MS = 5000;
/** How often followers are checked against the master clock, in ms. */
export const SYNC_MS = 250;

/** A track's verification state, from the ingest when it says, else from the chain's status. */
export function verificationOf(track) {
  if (track.verification?.state) return track.verification;
  if (track.status === 'broken') return { state: 'broken', reason: track.brokenReason };
  return { state: 'pending', reason: null };
}

/** Renders the recording page for recording `id`; returns the cleanup that stops every player. */
export function renderRecording(container, { id }) {
  const state = { alive: true, players: [], timers: [], recording: null, gaps: new Map() };
  const stop = () => {
    state.alive = false;
    for (const timer of state.timers) clearInterval(timer);
    for (const p of state.players) p.destroy();
    state.players = [];
  };
  replace(container, h('p', { class: 'muted' }, t('common.loading')));
  open(container, id, state).catch((err) => {
    if (state.alive) replace(container, refusedPage(err));
  });
  return stop;
}

function declined(container) {
  replace(
    container,
    h(
      'section',
      { class: 'panel refused' },
      h('h2', {}, t('reason.requiredTitle')),
      h('p', { role: 'alert', class: 'alert' }, t('reason.required')),
      h('p', {}, h('a', { href: '#/search' }, t('refused.back'))),
    ),
  );
}

async function open(container, id, state) {
  const recording = await api.recording(id);
  if (!state.alive) return;
  // Asked once per recording and session: the ingest says whether this session already gave one.
  const first = recording.tracks[0]?.track;
  if (needsReason(id) && first !== undefined) {
    if (await reasonRequiredFor(id, first)) {
      if (!(await askReason(id))) return declined(container);
    } else reasonGiven(id);
  }
  if (!state.alive) return;
  state.recording = recording;
  const Hls = await loadHls();
  if (!state.alive) return;
  if (!Hls.isSupported()) {
    replace(container, errorBox({ code: 'CONSOLE_NO_MSE' }));
    return;
  }
  state.Hls = Hls;
  buildPage(container, Hls, state);
}

/** Starts the page over with fresh players (after a reason was given for a refused playlist). */
function restart(container, state) {
  for (const timer of state.timers) clearInterval(timer);
  for (const p of state.players) p.destroy();
  state.timers = [];
  state.players = [];
  buildPage(container, state.Hls, state);
}

function buildPage(container, Hls, state) {
  const rec = state.recording;
  const liveBadge = h('span', { class: 'badge live', role: 'status' }, t('recording.live'));
  const playButton = h('button', { type: 'button', class: 'primary', id: 'play-pause' }, t('player.pause'));
  const liveButton = h('button', { type: 'button', id: 'jump-live' }, t('player.jumpLive'));
  const clock = h('span', { class: 'clock', id: 'master-clock' });
  const timeline = createTimeline({ onSeek: (wall) => seekAll(state, wall) });
  const grid = h('div', { class: 'tiles' });
  const facts = h('dl', { class: 'facts' });
  const title = h('h2', {}, t('recording.title', { caseId: rec.caseId ?? t('common.none') }), ' ', liveBadge);
  replace(
    container,
    h(
      'article',
      { class: 'recording', 'aria-labelledby': 'recording-title' },
      h('header', { id: 'recording-title', class: 'recording-head' }, title, facts),
      h(
        'div',
        { class: 'controls', role: 'toolbar', 'aria-label': t('player.controls') },
        playButton,
        liveButton,
        clock,
      ),
      grid,
      timeline.el,
    ),
  );

  const tiles = new Map();
  for (const track of rec.tracks) {
    const video = h('video', {
      muted: true,
      autoplay: true,
      playsinline: true,
      'aria-label': track.source?.name ?? track.track,
      dataset: { track: track.track },
    });
    video.muted = true;
    const badge = h('span', { class: 'verify' });
    const overlay = h('div', { class: 'overlay', hidden: true });
    const error = h('div', { class: 'tile-error' });
    const sound = h(
      'button',
      { type: 'button', class: 'link', 'aria-pressed': 'false' },
      t('player.soundOn'),
    );
    sound.addEventListener('click', () => {
      video.muted = !video.muted;
      sound.setAttribute('aria-pressed', String(!video.muted));
      sound.textContent = t(video.muted ? 'player.soundOn' : 'player.soundOff');
    });
    const tile = h(
      'figure',
      { class: 'tile', dataset: { track: track.track } },
      h('div', { class: 'screen' }, video, overlay),
      h('figcaption', {}, h('strong', {}, track.source?.name ?? track.track), ' ', badge, ' ', sound),
      error,
    );
    grid.append(tile);
    tiles.set(track.track, { badge, overlay, error, video });
    const player = createTrackPlayer(Hls, video, rec.id, track.track, {
      fatal: (coded) => playerFailed(container, state, track.track, coded, tiles),
    });
    state.players.push(player);
  }
  const showFacts = () => {
    const r = state.recording;
    replace(
      facts,
      [
        ['recording.matter', r.matter ?? ''],
        ['recording.room', r.room ?? ''],
        ['recording.officers', r.officers.join(t('common.listSeparator'))],
        ['recording.started', formatTime(r.startedAt)],
        ['recording.ended', r.endedAt ? formatTime(r.endedAt) : t('recording.stillRunning')],
      ].map(([k, v]) => h('div', {}, h('dt', {}, t(k)), h('dd', {}, v))),
    );
    liveBadge.hidden = Boolean(r.endedAt);
    liveButton.hidden = Boolean(r.endedAt);
    for (const track of r.tracks) {
      const tile = tiles.get(track.track);
      if (!tile) continue;
      const v = verificationOf(track);
      tile.badge.className = `verify ${v.state}`;
      tile.badge.textContent = t(`verify.${v.state}`);
      tile.badge.title = v.reason ?? '';
      replace(
        tile.error,
        v.state === 'broken' && v.reason
          ? h('p', { class: 'alert' }, t('verify.brokenReason', { reason: v.reason }))
          : null,
      );
    }
  };
  showFacts();

  playButton.addEventListener('click', () => {
    const master = state.players[0]?.video;
    const play = master?.paused ?? true;
    for (const p of state.players) {
      if (play) p.video.play().catch(() => undefined);
      else p.video.pause();
    }
  });
  liveButton.addEventListener('click', () => jumpLive(state));
  const first = state.players[0]?.video;
  const syncButton = () => {
    playButton.textContent = t(first?.paused ? 'player.play' : 'player.pause');
  };
  first?.addEventListener('play', syncButton);
  first?.addEventListener('pause', syncButton);

  const refresh = async () => {
    const tracks = state.recording.tracks;
    try {
      const [r, ...gapLists] = await Promise.all([
        api.recording(rec.id),
        ...tracks.map((tr) => api.gaps(rec.id, tr.track)),
      ]);
      if (!state.alive) return;
      tracks.forEach((tr, i) => {
        state.gaps.set(tr.track, gapLists[i] ?? []);
      });
      state.recording = r;
      showFacts();
    } catch {
      // The players report their own failures; the facts stay as last read.
    }
  };
  refresh();
  state.timers.push(
    setInterval(() => {
      // Until it ends and every track's verification has settled (the last checks land after the close).
      const settled = state.recording.tracks.every((tr) => verificationOf(tr).state !== 'pending');
      if (!state.recording.endedAt || !settled) refresh();
    }, REFRESH_MS),
  );
  state.timers.push(setInterval(() => tick(state, timeline, clock, tiles), SYNC_MS));
}

/** Wall time shown by the master: the first track with footage on screen. */
function masterWall(state) {
  for (const p of state.players) {
    const wall = p.wallNow();
    if (wall !== null) return { player: p, wall };
  }
  return null;
}

function tick(state, timeline, clock, tiles) {
  const master = masterWall(state);
  const gaps = [];
  let from = Date.parse(state.recording.startedAt);
  let to = state.recording.endedAt ? Date.parse(state.recording.endedAt) : Date.now();
  for (const p of state.players) {
    const span = p.span();
    if (span) {
      from = Math.min(from, span.from);
      to = Math.max(to, span.to);
    }
    for (const g of mergeGaps(state.gaps.get(p.track), p.dateRanges())) gaps.push({ ...g, track: p.track });
    const tile = tiles.get(p.track);
    if (!master || p === master.player || !tile) {
      if (tile) tile.overlay.hidden = true;
      continue;
    }
    const action = followerAction(p.fragments(), p.video.currentTime, master.wall);
    if (action.seek !== undefined && !timeline.dragging) p.video.currentTime = action.seek;
    if (master.player.video.paused !== p.video.paused) {
      if (master.player.video.paused) p.video.pause();
      else p.video.play().catch(() => undefined);
    }
    const gap = action.gap
      ? gaps.find((g) => g.track === p.track && g.from <= master.wall && master.wall < g.to)
      : null;
    tile.overlay.hidden = !action.gap;
    tile.overlay.textContent = action.gap
      ? t('player.noFootage', { reason: gap ? gapReasonText(gap.reason) : t('player.notYet') })
      : '';
  }
  gaps.sort((a, b) => a.from - b.from);
  timeline.update({ from, to, at: master?.wall ?? null, gaps, tracks: state.players.map((p) => p.track) });
  clock.textContent = master ? formatClock(master.wall) : '';
}

/** Moves every camera to wall time `wallMs`. */
function seekAll(state, wallMs) {
  for (const p of state.players) p.seekWall(wallMs);
}

/** Moves every camera to the position hls.js keeps for live playback, and plays. */
function jumpLive(state) {
  const walls = state.players.map((p) => p.liveWall()).filter((w) => w !== null);
  if (walls.length) seekAll(state, Math.min(...walls));
  for (const p of state.players) p.video.play().catch(() => undefined);
}

async function playerFailed(container, state, track, coded, tiles) {
  if (!state.alive) return;
  if (coded.status === 401) {
    reportExpired(coded);
    return;
  }
  if (coded.code === 'INGEST_REASON_REQUIRED') {
    if (state.asking) return;
    state.asking = true;
    const ok = await askReason(state.recording.id);
    state.asking = false;
    if (!state.alive) return;
    if (!ok) return declined(container);
    restart(container, state);
    return;
  }
  const tile = tiles.get(track);
  if (tile) replace(tile.error, errorBox(coded));
  if (coded.status === 403) replace(container, refusedPage(coded));
}
