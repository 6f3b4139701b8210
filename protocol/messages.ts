/** @module zod schemas of every MQTT payload other than entries (which live in entry.ts). */
import { z } from 'zod';
import { CaseElements, GatewayId, RecordingId, SignedEntry } from './entry.ts';
import { Base64Url, Sha256Hex } from './hash.ts';
import { IsoTime } from './time.ts';

/** `entry`: a gateway announces one signed entry; its object is already in the store. */
export const EntryMessage = SignedEntry;

/** `ack`: the ingest's answer for one entry, naming its hash. Only `indexed` releases the gateway's copy. */
export const AckMessage = z.strictObject({
  hash: Sha256Hex,
  status: z.enum(['indexed', 'rejected']),
  code: z.string().max(64).nullable().describe('error code when rejected'),
  reason: z.string().max(1000).nullable(),
  at: IsoTime,
});
export type AckMessage = z.infer<typeof AckMessage>;

/** `status`: retained; the gateway's health. The last will sets `online: false`. */
export const StatusMessage = z.strictObject({
  gateway: GatewayId,
  online: z.boolean(),
  at: IsoTime,
  recording: RecordingId.nullable(),
  backlog: z
    .strictObject({
      entries: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
      oldestAgeMs: z.number().int().nonnegative().nullable(),
      uploadBytesPerSecond: z.number().nonnegative(),
    })
    .nullable(),
  clockOffsetMs: z.number().int().nullable(),
  configVersion: z.number().int().nonnegative().nullable(),
  alarms: z.array(z.string().max(64)).max(50),
});
export type StatusMessage = z.infer<typeof StatusMessage>;

/** `recording`: lifecycle events of a room recording. */
export const RecordingEvent = z.strictObject({
  recording: RecordingId,
  event: z.enum(['started', 'resumed', 'stopped']),
  at: IsoTime,
  case: CaseElements,
  tracks: z.array(z.string().max(64)).max(64),
});
export type RecordingEvent = z.infer<typeof RecordingEvent>;

/** `cmd`: a remote command to a gateway. `id` makes a repeated command idempotent. */
export const CommandMessage = z.discriminatedUnion('command', [
  z.strictObject({
    id: z.string().min(8).max(64),
    command: z.literal('record-start'),
    by: z.string().max(100),
    case: CaseElements,
    at: IsoTime,
  }),
  z.strictObject({
    id: z.string().min(8).max(64),
    command: z.literal('record-stop'),
    by: z.string().max(100),
    at: IsoTime,
  }),
]);
export type CommandMessage = z.infer<typeof CommandMessage>;

/** `cmd-result`: the gateway's answer to a command. */
export const CommandResult = z.strictObject({
  id: z.string().min(8).max(64),
  ok: z.boolean(),
  code: z.string().max(64).nullable(),
  message: z.string().max(1000),
  recording: RecordingId.nullable(),
  at: IsoTime,
});
export type CommandResult = z.infer<typeof CommandResult>;

/** `alarm`: something an operator or supervisor must see. */
export const AlarmMessage = z.strictObject({
  code: z.string().min(1).max(64),
  severity: z.enum(['info', 'warning', 'critical']),
  message: z.string().max(1000),
  active: z.boolean(),
  at: IsoTime,
});
export type AlarmMessage = z.infer<typeof AlarmMessage>;

/** `time-req` / `time-resp`: NTP-style clock offset samples against the ingest. */
export const TimeRequest = z.strictObject({ id: z.string().min(1).max(64), t0: z.number().int() });
export const TimeResponse = z.strictObject({
  id: z.string().min(1).max(64),
  t0: z.number().int(),
  t1: z.number().int().describe('ingest receive time, ms'),
  t2: z.number().int().describe('ingest send time, ms'),
});
/** A time request: its id and the gateway's send time. */
export type TimeRequest = z.infer<typeof TimeRequest>;
/** A time response: the request echoed, with the ingest's receive and send times. */
export type TimeResponse = z.infer<typeof TimeResponse>;

/** `enroll`: a gateway presents its public key for an administrator to approve. */
export const EnrollRequest = z.strictObject({
  gateway: GatewayId,
  publicKey: Base64Url,
  fingerprint: Sha256Hex,
  at: IsoTime,
  hostname: z.string().max(255),
});
export type EnrollRequest = z.infer<typeof EnrollRequest>;

/** `config`: retained, ingest-signed, versioned gateway configuration. */
export const ConfigEnvelope = z.strictObject({
  version: z.number().int().positive(),
  config: z.record(z.string(), z.unknown()),
  hash: Sha256Hex,
  sig: Base64Url,
  key: Sha256Hex,
});
export type ConfigEnvelope = z.infer<typeof ConfigEnvelope>;
