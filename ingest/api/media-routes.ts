/**
 * @module HLS for supervisors: each track's playlist built from the index, its segments served byte for byte from
 * the object store (ranges, ETag; a presigned redirect for S3), and each track's verification state.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { type Entry, RecordingId, TrackId } from '../../protocol/entry.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import type { TrackMedia } from '../db/playlist-query.ts';
import type { Repository } from '../db/repository.ts';
import type { RecordingWithTracks, TrackRow } from '../db/rows.ts';
import { IngestError } from '../errors.ts';
import { buildPlaylist, PLAYLIST_CONTENT_TYPE, parseSegmentName, targetDurationS } from './playlist.ts';
import type { RecordingAccess } from './recording-access.ts';
import { withVerification } from './verification-state.ts';

/** What the media routes need. */
export interface MediaRoutesOptions {
  repo: Repository;
  store: ObjectStore;
  /** Who may see what, and the audit of it; `allowAll` only in tests of other concerns. */
  access: RecordingAccess;
  /** How S3 segments are delivered: a redirect to a presigned URL (default), or proxied like fs ones. */
  s3Delivery?: 'redirect' | 'proxy';
  /** Lifetime of a presigned segment URL, in seconds (default 60). */
  presignSeconds?: number;
  /**
   * The consumer (or anything emitting its `indexed` events): with it, live playlists offer blocking reload
   * (`_HLS_msn`), answered as soon as the awaited segment is indexed. Without it they are polled.
   */
  indexed?: IndexedEvents;
  /** How often a blocked reload re-reads the index anyway (another ingest node may index the segment). */
  blockPollMs?: number;
  /**
   * When a recording was deleted at the end of its retention (issue 9), or null: its media then answer 410
   * with the date, not a missing-object error. Without it no recording counts as deleted.
   */
  deletedAt?: (recording: string) => Promise<string | null>;
}

/** The part of the consumer's events a blocked playlist reload listens to. */
export interface IndexedEvents {
  on(event: 'indexed', listener: (e: { entry: Entry }) => void): unknown;
  off(event: 'indexed', listener: (e: { entry: Entry }) => void): unknown;
}

/** The route whose body gets each track's verification state. */
const RECORDING_ROUTE = '/api/v1/recordings/:id';
const TRACK = '/api/v1/recordings/:id/tracks/:track';

const TrackParams = z.strictObject({ id: RecordingId, track: TrackId });
const SegmentParams = z.strictObject({ id: RecordingId, track: TrackId, name: z.string().max(40) });
/** Blocking playlist reload directives [RFC 8216bis §6.2.5.2]; there are no partial segments to ask for. */
const PlaylistQuery = z
  .strictObject({
    _HLS_msn: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    _HLS_part: z.coerce.number().int().min(0).optional(),
    _HLS_skip: z.enum(['YES', 'v2']).optional(),
  })
  .refine((q) => q._HLS_part === undefined || q._HLS_msn !== undefined, '_HLS_part needs _HLS_msn');

const MEDIA_TYPES: Record<string, string> = { mpegts: 'video/mp2t', mp4: 'video/mp4' };

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new IngestError('INGEST_BAD_REQUEST', z.prettifyError(r.error));
  return r.data;
}

/** Adds the playlist and segment routes, and the verification state of the recording route's tracks. */
export function registerMediaRoutes(app: FastifyInstance, options: MediaRoutesOptions): void {
  const { repo, store, access } = options;
  const presignSeconds = options.presignSeconds ?? 60;
  const redirect = store.kind === 's3' && (options.s3Delivery ?? 'redirect') === 'redirect';
  const blockPollMs = options.blockPollMs ?? 1000;
  const cache = new TrackMediaCache(repo);
  // Blocked reloads waiting on a track, woken by one listener however many viewers wait.
  const waiters = new Map<string, Set<() => void>>();
  options.indexed?.on('indexed', ({ entry }) => {
    for (const wake of waiters.get(`${entry.recording}/${entry.track}`) ?? []) wake();
  });

  /** A deleted recording's media are gone for good: 410, with when, rather than a missing-object error. */
  async function refuseDeleted(recording: string): Promise<void> {
    const at = await options.deletedAt?.(recording);
    if (at)
      throw new IngestError(
        'INGEST_RETENTION_DELETED',
        `recording ${recording} was deleted at the end of its retention on ${at}; its tombstone is in the transparency log`,
      );
  }

  // Schemas validate (app.ts sets the zod compilers) and document the routes in the OpenAPI document.
  app.get(
    `${TRACK}/playlist.m3u8`,
    { schema: { params: TrackParams, querystring: PlaylistQuery } },
    async (req, reply) => {
      const { id, track } = parse(TrackParams, req.params);
      const query = parse(PlaylistQuery, req.query);
      let media = await cache.read(id, track);
      if (!media) throw new IngestError('INGEST_NOT_FOUND', `no recording ${id}`);
      await access.authorize(req, { recording: media.recording, track, action: 'playlist' });
      await refuseDeleted(id);
      if (!media.track) throw new IngestError('INGEST_NOT_FOUND', `recording ${id} has no track ${track}`);
      const canBlock = options.indexed !== undefined;
      if (query._HLS_msn !== undefined && canBlock && isLive(media)) {
        // [RFC 8216bis §6.2.5.2] more than two segments ahead of the last one is a client error.
        if (query._HLS_msn > media.segments.length + 1) {
          throw new IngestError(
            'INGEST_BAD_REQUEST',
            `_HLS_msn ${query._HLS_msn} is more than two segments past the last (${media.segments.length - 1})`,
          );
        }
        media = await awaitSegment(reply, media, query._HLS_msn);
      }
      const live = isLive(media);
      const text = buildPlaylist({
        live,
        continuity: media.track!.continuity,
        segments: media.segments,
        gaps: media.gaps,
        canBlockReload: canBlock,
      });
      return reply
        .header('content-type', PLAYLIST_CONTENT_TYPE)
        .header('cache-control', live ? 'no-cache' : 'private, max-age=300')
        .send(text);
    },
  );

  /** Re-reads the track until segment `msn` is listed, the track ends, the client goes, or 3 targets pass. */
  async function awaitSegment(reply: FastifyReply, first: TrackMedia, msn: number): Promise<TrackMedia> {
    const { id, track } = { id: first.recording.id, track: first.track!.track };
    const key = `${id}/${track}`;
    const limitMs = 3 * targetDurationS(first.segments) * 1000;
    const deadline = Date.now() + limitMs;
    let media = first;
    // The response closes before it is sent only when the client goes away.
    let gone = false;
    const leave = () => {
      gone = true;
    };
    reply.raw.once('close', leave);
    while (media.segments.length <= msn && isLive(media) && Date.now() < deadline && !gone) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(blockPollMs, Math.max(0, deadline - Date.now())));
        reply.raw.once('close', done);
        const set = waiters.get(key) ?? new Set();
        set.add(done);
        waiters.set(key, set);
        function done() {
          clearTimeout(timer);
          reply.raw.off('close', done);
          set.delete(done);
          if (set.size === 0 && waiters.get(key) === set) waiters.delete(key);
          resolve();
        }
      });
      media = (await cache.read(id, track)) ?? media;
    }
    reply.raw.off('close', leave);
    return media;
  }

  app.get(`${TRACK}/segments/:name`, { schema: { params: SegmentParams } }, async (req, reply) => {
    const { id, track, name } = parse(SegmentParams, req.params);
    const seq = parseSegmentName(name);
    if (seq === null)
      throw new IngestError('INGEST_BAD_REQUEST', `${JSON.stringify(name)} is not a segment name (<seq>.ts)`);
    const found = await repo.segmentObject(id, track, seq);
    if (!found) throw new IngestError('INGEST_NOT_FOUND', `no recording ${id}`);
    await access.authorize(req, { recording: found.recording, track, action: 'media' });
    await refuseDeleted(id);
    const object = found.object;
    if (!object) throw new IngestError('INGEST_NOT_FOUND', `track ${track} of ${id} has no segment ${seq}`);

    if (redirect) {
      const url = await store.presign(object.sha256, presignSeconds);
      if (url) return reply.header('cache-control', 'no-store').redirect(url, 302);
    }
    const etag = `"${object.sha256}"`;
    reply
      .header('etag', etag)
      .header('accept-ranges', 'bytes')
      .header('cache-control', 'private, max-age=31536000, immutable')
      .header('content-type', MEDIA_TYPES[object.container] ?? 'application/octet-stream');
    if (matchesEtag(req.headers['if-none-match'], etag)) return reply.status(304).send();
    const ifRange = req.headers['if-range'];
    const range =
      ifRange !== undefined && ifRange !== etag ? null : byteRange(req.headers.range, object.size);
    if (range === 'malformed' || range === 'unsatisfiable') {
      reply.header('content-range', `bytes */${object.size}`);
      throw new IngestError(
        'INGEST_RANGE_INVALID',
        range === 'malformed'
          ? `the Range header ${JSON.stringify(req.headers.range)} is malformed`
          : `the Range header ${JSON.stringify(req.headers.range)} starts past the end of the object (${object.size} bytes)`,
      );
    }
    if (range === null) {
      return sendStream(reply.status(200).header('content-length', object.size), store, object.sha256);
    }
    return sendStream(
      reply
        .status(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${object.size}`)
        .header('content-length', range.end - range.start + 1),
      store,
      object.sha256,
      range,
    );
  });

  // The recording body (registered in routes.ts) gains each track's verification state. Closed tracks found
  // verified are remembered by their head: the verdict of a closed chain with the same head and status stands.
  const verified = new Set<string>();
  const headKey = (t: TrackRow) => `${t.recording}/${t.track}/${t.lastHash}`;
  const known = (t: TrackRow) => t.status === 'closed' && verified.has(headKey(t));
  app.addHook('preSerialization', async (req, reply, payload) => {
    if (req.routeOptions.url !== RECORDING_ROUTE || reply.statusCode !== 200) return payload;
    const recording = payload as RecordingWithTracks;
    if (!recording || !Array.isArray(recording.tracks)) return payload;
    const facts = recording.tracks.every(known)
      ? new Map()
      : await repo.recordingVerificationFacts(recording.id);
    const body = withVerification(recording, facts, known);
    if (verified.size > 100_000) verified.clear();
    for (const t of body.tracks)
      if (t.status === 'closed' && t.verification.state === 'verified') verified.add(headKey(t));
    return body;
  });
}

/**
 * The entries of recently played tracks, so that a reload reads only what was indexed since: a chain grows only
 * at its end, its entries never change, and a segment is indexed only with its object checked (so cached
 * `verified` flags stay true). The recording and the track row are read fresh every time. Least recently used
 * tracks are forgotten past `max`.
 */
class TrackMediaCache {
  readonly #held = new Map<string, { media: TrackMedia; upTo: number }>();

  constructor(
    private readonly repo: Repository,
    // ~1 MB per 3-hour track of 2 s segments.
    private readonly max = 64,
  ) {}

  async read(recording: string, track: string): Promise<TrackMedia | null> {
    const key = `${recording}/${track}`;
    const held = this.#held.get(key);
    const fresh = await this.repo.trackMedia(recording, track, held?.upTo ?? -1);
    if (!fresh?.track) {
      this.#held.delete(key);
      return fresh;
    }
    const media: TrackMedia = held
      ? {
          ...fresh,
          segments: fresh.segments.length ? [...held.media.segments, ...fresh.segments] : held.media.segments,
          gaps: fresh.gaps.length ? [...held.media.gaps, ...fresh.gaps] : held.media.gaps,
          close: fresh.close ?? held.media.close,
        }
      : fresh;
    const upTo = Math.max(
      held?.upTo ?? -1,
      fresh.segments.at(-1)?.seq ?? -1,
      fresh.gaps.at(-1)?.seq ?? -1,
      fresh.close?.seq ?? -1,
    );
    this.#held.delete(key);
    this.#held.set(key, { media, upTo });
    if (this.#held.size > this.max) this.#held.delete(this.#held.keys().next().value!);
    return media;
  }
}

/** A live playlist can still grow: no close entry is indexed and the track is not closed. */
function isLive(media: TrackMedia): boolean {
  return media.close === null && media.track?.status !== 'closed';
}

async function sendStream(
  reply: FastifyReply,
  store: ObjectStore,
  sha256: string,
  range?: { start: number; end: number },
): Promise<FastifyReply> {
  const body = await store.get(sha256, range);
  return reply.send(body);
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/**
 * The one byte range a Range header asks of an object of `size` bytes [RFC 9110 §14.1.2]: null to send it
 * whole (no header, a unit other than bytes, which must be ignored, or several ranges, which may be),
 * `unsatisfiable` when it starts past the end (or is an empty suffix), `malformed` when it does not parse.
 */
export function byteRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | 'malformed' | 'unsatisfiable' {
  if (header === undefined) return null;
  const m = /^\s*([A-Za-z]+)\s*=(.*)$/.exec(header);
  if (!m) return 'malformed';
  if (m[1]!.toLowerCase() !== 'bytes') return null;
  const specs = m[2]!.split(',');
  if (specs.length > 1) return specs.every((s) => /^\s*(\d*)-(\d*)\s*$/.test(s)) ? null : 'malformed';
  const r = /^\s*(\d*)-(\d*)\s*$/.exec(specs[0]!);
  if (!r || (r[1] === '' && r[2] === '')) return 'malformed';
  const first = r[1] === '' ? null : Number(r[1]);
  const last = r[2] === '' ? null : Number(r[2]);
  if ((first !== null && !Number.isSafeInteger(first)) || (last !== null && !Number.isSafeInteger(last)))
    return 'malformed';
  if (first === null) {
    // A suffix: the last `last` bytes.
    if (last === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - last!), end: size - 1 };
  }
  if (last !== null && last < first) return 'malformed';
  if (first >= size) return 'unsatisfiable';
  return { start: first, end: last === null ? size - 1 : Math.min(last, size - 1) };
}
