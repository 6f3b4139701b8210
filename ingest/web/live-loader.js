/**
 * @module A playlist loader for hls.js that gives live tracks a blocking playlist reload (the LL-HLS
 * `_HLS_msn` rule, RFC 8216bis §6.2.5.2) when the server does not offer one itself: it answers hls.js's
 * request for segment N only once the playlist lists N, polling when the next segment is due. Without it
 * hls.js reloads once per target duration, and a segment waits up to that long before the player sees it.
 */

/** Poll interval once the next segment is due, in ms. */
export const DUE_POLL_MS = 100;
/** Poll interval when the segment is late by more than a second (the gateway may be stalled), in ms. */
export const LATE_POLL_MS = 400;
/** Wake this long before a segment is due, in ms (sealing and indexing jitter). */
export const EARLY_MS = 150;

/** The media sequence number of a playlist's last segment (-1 when it lists none). */
export function lastMediaSequence(text) {
  const m = /#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text);
  const first = m ? Number(m[1]) : 0;
  const count = (text.match(/^#EXTINF:/gm) ?? []).length;
  return first + count - 1;
}

/** The longest #EXTINF of a playlist, in seconds (0 when none). */
export function longestSegment(text) {
  let max = 0;
  for (const m of text.matchAll(/^#EXTINF:([\d.]+)/gm)) max = Math.max(max, Number(m[1]));
  return max;
}

/** How long to wait before polling again, given when the last new segment was seen and its length. */
export function pollDelay(now, lastSeenAt, lastDurationMs) {
  if (lastSeenAt === null) return DUE_POLL_MS * 2;
  const due = lastSeenAt + lastDurationMs - EARLY_MS;
  if (now < due) return due - now;
  return now - due > 1000 + EARLY_MS ? LATE_POLL_MS : DUE_POLL_MS;
}

/** Marks a live playlist as one whose reloads block (what this loader then provides). */
export function withBlockingReload(text) {
  return text.replace(/^#EXTM3U[^\n]*\n/, (first) => `${first}#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n`);
}

const DIRECTIVES = ['_HLS_msn', '_HLS_part', '_HLS_skip'];

/**
 * A pLoader class for hls.js over its default loader `Base`. `onLive(longestSegmentS)` hears of every
 * live playlist delivered (the player sets its target latency from it).
 */
export function createLivePlaylistLoader(Base, { onLive } = {}) {
  let serverBlocks = false;
  let lastSeq = -1;
  let lastSeenAt = null;
  let lastDurationMs = 2000;

  return class LivePlaylistLoader {
    constructor(config) {
      this.hlsConfig = config;
      this.inner = new Base(config);
      this.context = null;
      this.timer = null;
      this.done = false;
    }

    get stats() {
      return this.inner.stats;
    }

    load(context, config, callbacks) {
      this.context = context;
      const url = new URL(context.url, location.href);
      const wanted = url.searchParams.has('_HLS_msn') ? Number(url.searchParams.get('_HLS_msn')) : null;
      if (!serverBlocks) for (const d of DIRECTIVES) url.searchParams.delete(d);
      const plain = { ...context, url: url.href };
      // Give up waiting after a few segment lengths: hls.js then sees an unchanged playlist and backs off.
      const deadline = Date.now() + Math.min(8000, Math.max(3000, 3 * lastDurationMs));
      const attempt = () => {
        if (this.done) return;
        this.inner.destroy();
        this.inner = new Base(this.hlsConfig);
        this.inner.load(serverBlocks ? context : plain, config, {
          ...callbacks,
          onSuccess: (response, stats, _ctx, details) => {
            if (this.done) return;
            let data = response.data;
            if (typeof data === 'string' && !data.includes('#EXT-X-ENDLIST')) {
              if (/#EXT-X-SERVER-CONTROL:[^\n]*CAN-BLOCK-RELOAD=YES/.test(data)) serverBlocks = true;
              const seq = lastMediaSequence(data);
              if (!serverBlocks && wanted !== null && seq < wanted && Date.now() < deadline) {
                this.timer = setTimeout(attempt, pollDelay(Date.now(), lastSeenAt, lastDurationMs));
                return;
              }
              if (seq > lastSeq) {
                lastSeq = seq;
                lastSeenAt = Date.now();
                const m = [...data.matchAll(/^#EXTINF:([\d.]+)/gm)].pop();
                if (m) lastDurationMs = Number(m[1]) * 1000;
              }
              if (!serverBlocks) data = withBlockingReload(data);
              onLive?.(longestSegment(data));
            }
            callbacks.onSuccess({ ...response, data }, stats, context, details);
          },
        });
      };
      attempt();
    }

    abort() {
      this.done = true;
      clearTimeout(this.timer);
      this.inner.abort();
    }

    destroy() {
      this.done = true;
      clearTimeout(this.timer);
      this.inner.destroy();
    }
  };
}
