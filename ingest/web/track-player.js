/** @module One camera of a recording: a <video> with its own hls.js instance, its fragments on the wall clock, its live edge. */
import { playlistUrl } from './api.js';
import { createLivePlaylistLoader } from './live-loader.js';
import { mediaTimeAt, wallSpan, wallTimeAt } from './master-clock.js';

/** Seconds behind the newest segment's end a live player aims for, beyond one segment length. */
export const LIVE_MARGIN_S = 0.3;
/**
 * hls.js adds 0.25 s to its target latency at every stall and never takes it back; after this long without a
 * stall the player returns to its base target, so a busy minute does not cost latency for the rest of the view.
 */
export const STALL_DECAY_MS = 30_000;

let hlsReady = null;

/** Loads hls.js once (a classic script from /web/vendor, so the CSP stays 'self'). */
export function loadHls() {
  hlsReady ??= new Promise((resolve, reject) => {
    if (globalThis.Hls) return resolve(globalThis.Hls);
    const s = document.createElement('script');
    s.src = '/web/vendor/hls.min.js';
    s.onload = () => resolve(globalThis.Hls);
    s.onerror = () => {
      hlsReady = null;
      reject(new Error('hls.js did not load'));
    };
    document.head.append(s);
  });
  return hlsReady;
}

/** Reads the ingest's coded error from a failed playlist or segment request, when hls.js kept it. */
function codedError(data) {
  const status = data.response?.code ?? data.networkDetails?.status ?? 0;
  let code = null;
  try {
    const text = data.networkDetails?.responseText;
    if (text) code = JSON.parse(text)?.error?.code ?? null;
  } catch {
    // The body was not JSON.
  }
  return { status, code };
}

/**
 * Starts playing one track. `on.fatal({status, code})` hears of an error the player cannot recover
 * from; `on.level(details)` of every playlist load.
 */
export function createTrackPlayer(Hls, video, recording, track, on = {}) {
  let fragments = [];
  let details = null;
  const hls = new Hls({
    workerPath: '/web/vendor/hls.worker.js',
    lowLatencyMode: true,
    // Set from the playlist's longest segment as soon as the first live playlist arrives.
    liveSyncDuration: 3,
    liveSyncOnStallIncrease: 0.25,
    maxLiveSyncPlaybackRate: 1.25,
    backBufferLength: 30,
    // No text tracks: evidence carries no captions, the page reads DATERANGEs from the playlist itself, and hls.js
    // would give each text track an empty source from a data: URL, which the console's CSP refuses.
    enableWebVTT: false,
    enableIMSC1: false,
    enableCEA708Captions: false,
    enableDateRangeMetadataCues: false,
    enableEmsgMetadataCues: false,
    enableID3MetadataCues: false,
    pLoader: createLivePlaylistLoader(Hls.DefaultConfig.loader, {
      onLive: (longest) => {
        const target = Math.max(1, longest + LIVE_MARGIN_S);
        if (Math.abs((hls.config.liveSyncDuration ?? 0) - target) > 0.05)
          hls.config.liveSyncDuration = target;
      },
    }),
  });
  hls.on(Hls.Events.LEVEL_LOADED, (_ev, data) => {
    details = data.details;
    fragments = data.details.fragments.map((f) => ({
      start: f.start,
      duration: f.duration,
      programDateTime: f.programDateTime,
    }));
    on.level?.(data.details);
  });
  let lastStallAt = 0;
  const decay = setInterval(() => {
    const base = hls.config.liveSyncDuration;
    if (!details?.live || Date.now() - lastStallAt < STALL_DECAY_MS) return;
    if (typeof base === 'number' && (hls.targetLatency ?? 0) > base + 0.01) hls.targetLatency = base;
  }, 5000);
  let recovered = 0;
  hls.on(Hls.Events.ERROR, (_ev, data) => {
    if (data.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR) lastStallAt = Date.now();
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
      const coded = codedError(data);
      if ([401, 403, 404].includes(coded.status)) {
        hls.stopLoad();
        on.fatal?.(coded);
        return;
      }
    }
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && recovered++ < 3) hls.recoverMediaError();
    else on.fatal?.({ status: 0, code: 'CONSOLE_PLAYER', detail: data.details });
  });
  hls.attachMedia(video);
  hls.loadSource(playlistUrl(recording, track));
  // The capture time of the frame on screen, for the browser test and bench/live-glass to read.
  video.captureTimeNow = () => wallTimeAt(fragments, video.currentTime);
  /** hls.js's view of live playback (seconds): for bench/live-glass's diagnostics. */
  video.liveStats = () => ({
    latency: hls.latency,
    target: hls.targetLatency,
    rate: video.playbackRate,
    buffered: video.buffered.length ? video.buffered.end(video.buffered.length - 1) - video.currentTime : 0,
  });

  return {
    track,
    video,
    hls,
    /** Whether the playlist is still growing (EVENT, no ENDLIST). */
    get live() {
      return Boolean(details?.live);
    },
    /** The hls.js DATERANGEs of class cn.quanlu.gap, as plain objects. */
    dateRanges() {
      return Object.values(details?.dateRanges ?? {}).map((d) => ({
        id: d.id,
        class: d.class,
        start: d.attr?.['START-DATE'],
        end: d.attr?.['END-DATE'],
        reason: d.attr?.['X-REASON'],
        detail: d.attr?.['X-DETAIL'],
      }));
    },
    fragments: () => fragments,
    /** Wall time (epoch ms) of the frame on screen, or null. */
    wallNow: () => wallTimeAt(fragments, video.currentTime),
    /** The wall-time span of the footage listed so far. */
    span: () => wallSpan(fragments),
    /** Wall time of the position hls.js keeps for live playback, or null. */
    liveWall: () => {
      const pos = hls.liveSyncPosition;
      return pos === null || pos === undefined ? null : wallTimeAt(fragments, pos);
    },
    /** Moves to wall time `wallMs`; returns whether the track has footage there. */
    seekWall(wallMs) {
      const at = mediaTimeAt(fragments, wallMs);
      if (!at) return false;
      video.currentTime = at.time;
      return !at.gap;
    },
    destroy() {
      clearInterval(decay);
      hls.destroy();
      video.removeAttribute('src');
      video.load();
    },
  };
}
