/** @module The gateway configuration (网关配置): identity, room, cameras, ingest, console, spool and log. */
import { z } from 'zod';
import { GatewayId } from '../protocol/entry.ts';
import { TlsSettings } from '../protocol/tls/tls-settings.ts';
import { StoreConfig } from '../store/store-config.ts';
import { CameraConfig, MicrophoneConfig } from './camera-config.ts';
import { ProfileName, RoomProfile } from './room-profile.ts';

/** A room id: lowercase letters, digits and dashes, e.g. "hearing-1". */
export const RoomId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'a room id is 1–63 of a-z, 0-9 and "-", starting with a letter or digit',
  )
  .describe('room id, unique within the agency, e.g. "hearing-1"');

/** The pino log levels. */
export const LogLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .describe('least severe log level written');

/** The whole configuration of one gateway; a minimal file names the gateway, the room and one camera. */
export const GatewayConfig = z
  .strictObject({
    gateway: z
      .strictObject({
        id: GatewayId.describe(
          'gateway id (网关编号): 1–63 of a-z, 0-9 and "-"; names its MQTT topics and its key at the ingest',
        ),
        dataDir: z
          .string()
          .min(1)
          .default('./data/gateway')
          .describe('folder of the spool, key and state; relative to the working directory'),
      })
      .describe('this gateway'),
    room: z
      .strictObject({
        id: RoomId,
        name: z.string().min(1).max(100).describe('room name shown to people, e.g. "第一听证室"'),
        profile: z
          .union([ProfileName, RoomProfile])
          .describe(
            'room profile: the name of a shipped profile (e.g. "hearing-room") or a whole profile inline',
          ),
      })
      .describe('the room (场所) this gateway records'),
    cameras: z
      .array(CameraConfig)
      .max(64)
      .default([])
      .superRefine((cameras, ctx) => {
        const seen = new Set<string>();
        cameras.forEach((camera, i) => {
          if (seen.has(camera.id)) {
            ctx.addIssue({
              code: 'custom',
              path: [i, 'id'],
              message: `camera id "${camera.id}" is used twice`,
            });
          }
          seen.add(camera.id);
        });
      })
      .describe('the cameras of the room; ids are unique (each is a track of the recording)'),
    microphones: z
      .array(MicrophoneConfig)
      .max(16)
      .default([])
      .describe(
        'microphones recorded as tracks of their own, beside the cameras; ids unique among all tracks',
      ),
    ingest: z
      .strictObject({
        mqttUrl: z
          .string()
          .regex(/^mqtts?:\/\/\S+$/i, 'an MQTT url starts with mqtt:// or mqtts://')
          .refine((url) => URL.canParse(url), 'not a valid URL')
          .optional()
          .describe('MQTT broker of the ingest, mqtt:// or mqtts://; unset: not connected (local only)'),
        // operator console (issue 6): the officer list and case look-ups come from the ingest's HTTP API
        httpUrl: z
          .string()
          .regex(/^https?:\/\/\S+$/i, 'an ingest API url starts with http:// or https://')
          .refine((url) => URL.canParse(url), 'not a valid URL')
          .optional()
          .describe(
            "the ingest's HTTP API base URL (e.g. https://ingest.example:8080): the console syncs the officer list and looks case ids up there; unset: officersFile only, case ids accepted offline",
          ),
        tokenFile: z
          .string()
          .min(1)
          .max(4096)
          .optional()
          .describe(
            'file holding an ingest API token (quanlu ingest users token; sent as a Bearer token), mode 0600 recommended; unset: no token',
          ),
        storeDir: z
          .string()
          .min(1)
          .optional()
          .describe('local object-store folder (content addressed), for the one-machine setup'),
        // deployment (issue 9): the at-scale store the gateway uploads to
        configKey: z
          .string()
          .regex(/^[A-Za-z0-9_-]{43}$/, 'a raw Ed25519 public key: 43 base64url characters')
          .optional()
          .describe(
            "the ingest's config-signing public key (GET /api/v1/log/key), pinned here: a pushed configuration must verify against it; unset: every push is refused",
          ),
        store: StoreConfig.optional().describe(
          'object store the gateway uploads to (an S3 bucket at scale); overrides storeDir',
        ),
        // transport security (issue 10): the ingest CA pinned at enrollment, and mutual TLS
        tls: z
          .strictObject({
            caFile: z
              .string()
              .min(1)
              .optional()
              .describe("the ingest's CA certificate (PEM): the only CA trusted for mqtts"),
            caFingerprint: z
              .string()
              .regex(
                /^(?:[0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/,
                'a SHA-256 fingerprint: 64 hex digits, colons allowed',
              )
              .optional()
              .describe(
                "SHA-256 of the ingest's CA certificate, as the ingest prints it: the first connection fetches the CA, checks it and pins it in <dataDir>/ingest-ca.pem",
              ),
            certFile: z
              .string()
              .min(1)
              .optional()
              .describe(
                "the gateway's client certificate (PEM) from `quanlu ingest gateways certificate`, for mutual TLS; default <dataDir>/gateway-cert.pem when that file exists",
              ),
            trustSystemCas: z
              .boolean()
              .optional()
              .describe(
                "true: with neither caFile nor caFingerprint, trust the system's CAs for mqtts (a broker with a public certificate); without it an mqtts:// mqttUrl needs caFile or caFingerprint",
              ),
            plaintext: z
              .boolean()
              .optional()
              .describe(
                'true: allow an mqtt:// (plain-text) mqttUrl; warned about in the log, on start and on the operator console. Without it mqtt:// is refused',
              ),
          })
          .prefault({})
          .describe(
            'TLS of the uplink: mqtts:// trusts only the ingest CA (caFile or caFingerprint) unless trustSystemCas; mqtt:// only with plaintext',
          ),
      })
      .prefault({})
      .describe('where evidence goes (上传): the ingest broker and object store'),
    // trusted time (issue 10): the gateway measures its clock against the ingest's over MQTT
    clock: z
      .strictObject({
        syncSeconds: z
          .number()
          .int()
          .min(5)
          .max(86_400)
          .default(300)
          .describe(
            'how often the gateway measures its clock against the ingest (a burst of NTP-style exchanges over MQTT); also at every connection',
          ),
        samples: z
          .number()
          .int()
          .min(1)
          .max(32)
          .default(8)
          .describe('exchanges per measurement; the one with the shortest round trip is kept'),
        timeoutMs: z
          .number()
          .int()
          .min(50)
          .max(30_000)
          .default(2000)
          .describe('how long one exchange waits for the ingest to answer'),
        staleSeconds: z
          .number()
          .int()
          .min(10)
          .max(604_800)
          .default(3600)
          .describe(
            'a measurement older than this is sealed with source "stale" (its offset, no round trip) until a new one succeeds',
          ),
      })
      .prefault({})
      .describe(
        "clock sync (时间同步) against the ingest; the alarm limit is the room profile's maxClockOffsetMs",
      ),
    console: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1').describe('address the operator console listens on'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(8090)
          .describe('port of the operator console; 0: any free port'),
        officersFile: z
          .string()
          .min(1)
          .optional()
          .describe(
            'officer list (执法人员名单; YAML or JSON, officers: [{id, name}]) that Start checks credential numbers against; unset: the form of a number only',
          ),
        startReserveMiB: z
          .number()
          .int()
          .min(0)
          .default(1024)
          .describe(
            'refuse to start a recording (GW_DISK_FULL) when the spool disk has less than this many MiB free; a running recording goes on',
          ),
        diskLowMiB: z
          .number()
          .int()
          .min(0)
          .default(4096)
          .describe('alarm "disk-low" when the spool disk has less than this many MiB free'),
        ingestUnreachableSeconds: z
          .number()
          .int()
          .min(1)
          .max(3600)
          .default(30)
          .describe('alarm "ingest-unreachable" when the broker has been out of reach this many seconds'),
        tls: TlsSettings.prefault({}).describe(
          "TLS of the console: auto (default) makes the gateway's own CA under <dataDir>/tls; off is plain text (warned about in the log and on the page)",
        ),
      })
      .prefault({})
      .describe("the operator's web console (操作台)"),
    spool: z
      .strictObject({
        minFreeMiB: z
          .number()
          .int()
          .min(0)
          .default(512)
          .describe(
            'refuse new evidence when the disk has less than this many MiB free; nothing unacknowledged is evicted',
          ),
        retainAckedMiB: z
          .number()
          .int()
          .min(0)
          .default(1024)
          .describe('MiB of acknowledged evidence kept locally before it may be reclaimed'),
      })
      .prefault({})
      .describe('the local store-and-forward spool (本地缓存)'),
    log: z
      .strictObject({ level: LogLevel.default('info') })
      .prefault({})
      .describe('logging'),
    // operations (issue 9): Prometheus metrics when the operator console does not serve them
    metrics: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1').describe('address the metrics listener binds to'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .describe('port of the metrics listener (GET /metrics, Prometheus text); 0: any free port'),
      })
      .optional()
      .describe('a small HTTP listener serving only GET /metrics; unset: no listener of its own'),
  })
  .superRefine((config, ctx) => {
    // transport security (issue 10): the uplink trusts the pinned ingest CA; anything else is written out
    const { mqttUrl, tls } = config.ingest;
    if (mqttUrl && /^mqtts:/i.test(mqttUrl) && !tls.caFile && !tls.caFingerprint && !tls.trustSystemCas) {
      ctx.addIssue({
        code: 'custom',
        path: ['ingest', 'tls'],
        message:
          "an mqtts:// mqttUrl needs ingest.tls.caFingerprint (the ingest CA's SHA-256, printed at its start and in GET /api/v1/transport) or ingest.tls.caFile; trustSystemCas: true trusts the system's CAs instead",
      });
    }
    if (mqttUrl && /^mqtt:/i.test(mqttUrl) && !tls.plaintext) {
      ctx.addIssue({
        code: 'custom',
        path: ['ingest', 'mqttUrl'],
        message:
          'mqtt:// speaks plain text: use mqtts://, or write out ingest.tls.plaintext: true (warned about in the log and on the console)',
      });
    }
    const cameras = new Set(config.cameras.map((c) => c.id));
    const seen = new Set<string>();
    config.microphones.forEach((mic, i) => {
      if (cameras.has(mic.id) || seen.has(mic.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['microphones', i, 'id'],
          message: `track id "${mic.id}" is used twice (camera and microphone ids share one namespace)`,
        });
      }
      seen.add(mic.id);
    });
  })
  .describe('quanlu gateway configuration (网关配置)');

/** A parsed gateway configuration, defaults filled in. */
export type GatewayConfig = z.infer<typeof GatewayConfig>;
/** A gateway configuration as written, before defaults. */
export type GatewayConfigInput = z.input<typeof GatewayConfig>;
