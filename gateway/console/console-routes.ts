/** @module The console's local REST API: room, recording status, Start, Stop and the live preview (fastify + zod). */
import { createReadStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { LoadedGatewayConfig } from '../../firmware-config/load.ts';
import type { Matter } from '../../firmware-config/matters.ts';
import { Sha256Hex } from '../../protocol/hash.ts';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import type { Alarms } from './alarms.ts';
import type { Officer, OfficerSource } from './officer-list.ts';
import { isPreviewSegment, previewPlaylist } from './preview.ts';
import type { RoomService } from './room-service.ts';
import { StartForm } from './start-form.ts';

/** Stop needs an explicit confirmation. */
export const StopRequest = z
  .strictObject({ confirm: z.boolean().describe('must be true: the operator confirmed the Stop') })
  .describe('stop the running recording');

const TrackParams = z.strictObject({
  track: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'not a track id'),
});
const SegmentParams = TrackParams.extend({
  file: z.string().regex(/^[0-9a-f]{64}\.ts$/, 'a segment is named <sha256>.ts'),
});

/** What the routes need. */
export interface ConsoleRouteDeps {
  gateway: Gateway;
  loaded: LoadedGatewayConfig;
  matters: Matter[];
  officers: { list: Officer[] | null; source: OfficerSource };
  service: RoomService;
  alarms: Alarms;
}

/** Adds the /api/v1 routes of the console. */
export function registerConsoleRoutes(app: FastifyInstance, deps: ConsoleRouteDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { gateway, loaded, matters, officers, service, alarms } = deps;
  const { config, profile } = loaded;

  r.get(
    '/api/v1/room',
    { schema: { summary: 'the room, its cameras, profile, matters and officers' } },
    async () => ({
      gateway: gateway.id,
      room: { id: config.room.id, name: config.room.name },
      profile: {
        name: profile.name,
        title: profile.title,
        caseIdPattern: profile.caseIdPattern,
        maxClockOffsetMs: profile.maxClockOffsetMs,
        segmentSeconds: profile.segmentSeconds,
      },
      requiredElements: profile.requiredElements,
      cameras: config.cameras.map((c) => ({ id: c.id, name: c.name, audio: c.audio })),
      matters: matters.map((m) => ({ id: m.id, zh: m.zh, en: m.en, mandatory: m.mandatory })),
      officers: { source: officers.source, list: officers.list ?? [] },
      caseLookup: config.ingest.httpUrl
        ? { available: true, reason: null }
        : {
            available: false,
            reason: 'no ingest.httpUrl is configured: case ids are checked by pattern and accepted offline',
          },
    }),
  );

  r.get(
    '/api/v1/recording',
    { schema: { summary: 'the recording state per camera, backlog and alarms' } },
    async () => ({
      ...(await service.status()),
      alarms: await alarms.evaluate(),
    }),
  );

  r.post(
    '/api/v1/recording/start',
    { schema: { summary: 'start recording on every camera of the room', body: StartForm } },
    async (req, reply) => {
      const recording = await service.start(req.body);
      await alarms.evaluate();
      return reply.status(201).send({ recording });
    },
  );

  r.post(
    '/api/v1/recording/stop',
    {
      schema: { summary: 'stop the recording; every tail is sealed; returns the summary', body: StopRequest },
    },
    async (req) => {
      if (req.body.confirm !== true) {
        throw new GatewayError('GW_STOP_UNCONFIRMED', 'send {"confirm": true} to stop the recording');
      }
      return { summary: await service.stop() };
    },
  );

  r.get(
    '/api/v1/preview/:track/playlist.m3u8',
    {
      schema: {
        summary: "live preview: the newest sealed segments of a camera's track",
        params: TrackParams,
      },
    },
    async (req, reply) => {
      const running = gateway.recorder.status();
      const playlist = running && previewPlaylist(gateway.spool, running.recording, req.params.track);
      if (!playlist)
        return reply.status(404).send({ error: { code: 'GW_RECORDING_NONE', message: 'no footage yet' } });
      return reply.type('application/vnd.apple.mpegurl').header('cache-control', 'no-store').send(playlist);
    },
  );

  r.get(
    '/api/v1/preview/:track/segments/:file',
    { schema: { summary: 'one preview segment, byte for byte from the spool', params: SegmentParams } },
    async (req, reply) => {
      const running = gateway.recorder.status();
      const sha256 = Sha256Hex.parse(req.params.file.slice(0, 64));
      if (!running || !isPreviewSegment(gateway.spool, running.recording, req.params.track, sha256)) {
        return reply
          .status(404)
          .send({ error: { code: 'GW_RECORDING_NONE', message: 'not a current preview segment' } });
      }
      return reply
        .type('video/mp2t')
        .header('cache-control', 'private, max-age=60')
        .send(createReadStream(gateway.spool.objectPath(sha256)));
    },
  );
}
