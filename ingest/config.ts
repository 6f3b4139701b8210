/** @module The ingest's configuration: one zod schema, which is also the type; every field describes itself. */
import { z } from 'zod';
import { TlsSettings } from '../protocol/tls/tls-settings.ts';
import { StoreConfig } from '../store/store-config.ts';
import { DatabaseConfig } from './db/open-database.ts';

/** Where the ingest's MQTT traffic goes: the embedded broker, or an external one (Mosquitto, EMQX). */
export const MqttConfig = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('embedded').describe('aedes inside the ingest process (MQTT 3.1.1)'),
      host: z.string().default('127.0.0.1').describe('address the embedded broker listens on'),
      port: z
        .number()
        .int()
        .min(0)
        .max(65535)
        .default(1883)
        .describe('port of the embedded broker; 0 picks a free one'),
    }),
    z.strictObject({
      kind: z.literal('external').describe('an external broker'),
      url: z
        .string()
        .regex(/^mqtts?:\/\/\S+$/, 'mqtt:// or mqtts://')
        .describe('broker URL'),
      username: z.string().default('ingest').describe('MQTT user of the ingest'),
      shared: z
        .boolean()
        .default(true)
        .describe('consume through $share/ingest/... so several ingest nodes split the stream'),
      caFile: z
        .string()
        .min(1)
        .optional()
        .describe(
          "mqtts:// only: the CA the broker's certificate is checked against (default: the ingest's own CA)",
        ),
      plaintext: z
        .boolean()
        .default(false)
        .describe(
          'true: allow an mqtt:// (plain-text) url while the API speaks TLS; warned about in the log and on the console. Without it mqtt:// needs tls.mode: off',
        ),
    }),
  ])
  .describe('MQTT broker');

/** The ingest configuration. */
export const IngestConfig = z
  .strictObject({
    node: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
      .default('ingest-1')
      .describe('name of this ingest node: its MQTT client id is quanlu-<node>'),
    dataDir: z
      .string()
      .min(1)
      .default('./data/ingest')
      .describe('folder of the ingest secret and, by default, database and objects'),
    mqtt: MqttConfig.default({ kind: 'embedded', host: '127.0.0.1', port: 1883 }),
    database: DatabaseConfig.optional().describe('the database; default PGlite in <dataDir>/db'),
    store: StoreConfig.optional().describe('the object store; default a local folder <dataDir>/objects'),
    http: z
      .strictObject({
        host: z.string().default('127.0.0.1').describe('address the HTTP API listens on'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(8080)
          .describe('port of the HTTP API; 0 picks a free one'),
        trustProxy: z
          .boolean()
          .default(false)
          .describe(
            'true behind a reverse proxy (e.g. the compose Caddy): the client address of audit records and sign-in limits comes from X-Forwarded-For; never true when clients reach the ingest directly',
          ),
      })
      .default({ host: '127.0.0.1', port: 8080, trustProxy: false }),
    // Transport security (issue 10): HTTPS for the API and console, mqtts for the embedded broker.
    tls: TlsSettings.prefault({}).describe(
      'TLS of the HTTP API and of the embedded broker: auto (default) makes a CA under <dataDir>/tls and prints its fingerprint; off is plain text, written out',
    ),
    gatewayCertificates: z
      .enum(['off', 'optional', 'required'])
      .default('optional')
      .describe(
        "mutual TLS for gateways: optional (default) checks a client certificate when one is shown (issued by the ingest CA, bound to the gateway's enrolled key, gateway approved); required: an approved gateway must show one on the embedded broker; off: none is asked for",
      ),
    log: z
      .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .default({ level: 'info' }),
    transparencyLog: z
      .strictObject({
        sequenceMs: z
          .number()
          .int()
          .min(10)
          .max(3_600_000)
          .default(1000)
          .describe('how often accepted entries are appended to the transparency log, in ms'),
        treeHeadSeconds: z
          .number()
          .int()
          .min(1)
          .max(86_400)
          .default(60)
          .describe('how often a tree head is signed when the log grew, in seconds'),
      })
      .default({ sequenceMs: 1000, treeHeadSeconds: 60 })
      .describe('the transparency log of accepted entries (issue 8)'),
    fixity: z
      .strictObject({
        enabled: z.boolean().default(true).describe('re-hash stored objects in the background'),
        bytesPerSecond: z
          .number()
          .int()
          .min(1024)
          .default(20 * 1024 * 1024)
          .describe('how fast a fixity sweep reads the object store, in bytes per second'),
        pauseSeconds: z
          .number()
          .int()
          .min(0)
          .default(3600)
          .describe('rest between the end of one full pass and the start of the next, in seconds'),
      })
      .default({ enabled: true, bytesPerSecond: 20 * 1024 * 1024, pauseSeconds: 3600 })
      .describe('fixity sweeps over the object store (issue 8)'),
    access: z
      .strictObject({
        reasonRequired: z
          .boolean()
          .default(false)
          .describe('a reason for access must be given once per recording and session before playback'),
        sessionIdleMinutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60)
          .default(30)
          .describe('a console session unused this long expires'),
        sessionMaxHours: z
          .number()
          .int()
          .min(1)
          .max(24 * 30)
          .default(12)
          .describe('a console session expires this long after sign-in, however busy'),
        lockoutFailures: z
          .number()
          .int()
          .min(1)
          .max(100)
          .optional()
          .describe('failed sign-ins for one user name, from any address, that lock the account (default 5)'),
        lockoutWindowMinutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60)
          .optional()
          .describe('the failures that lock an account are counted over this many minutes (default 15)'),
        lockoutMinutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60)
          .optional()
          .describe('a locked account refuses every sign-in for this many minutes (default 15)'),
      })
      .default({ reasonRequired: false, sessionIdleMinutes: 30, sessionMaxHours: 12 })
      .describe('users, sessions and audited access'),
  })
  .superRefine((config, ctx) => {
    // Transport security (issue 10): a plain-text external broker is written out, never a default.
    const { mqtt } = config;
    if (
      mqtt.kind === 'external' &&
      /^mqtt:/i.test(mqtt.url) &&
      config.tls.mode !== 'off' &&
      !mqtt.plaintext
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['mqtt', 'url'],
        message:
          'mqtt:// speaks plain text: use mqtts://, or write out mqtt.plaintext: true (or tls.mode: off); it is warned about in the log and on the console',
      });
    }
  });
/** The parsed ingest configuration. */
export type IngestConfig = z.infer<typeof IngestConfig>;
/** The ingest configuration as written. */
export type IngestConfigInput = z.input<typeof IngestConfig>;
