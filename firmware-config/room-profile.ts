/** @module The room profile (场所配置): what a room of one kind records, and what a recording there needs. */
import { z } from 'zod';
import { CaseIdPattern, DEFAULT_CASE_ID_PATTERN } from './case-id-pattern.ts';
import { DockSettings } from './dock-profile.ts';

/** A profile name, also its file name under profiles/: lowercase letters, digits and dashes. */
export const ProfileName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'a profile name is 1–63 of a-z, 0-9 and "-", starting with a letter or digit',
  )
  .describe('room profile name, e.g. "hearing-room"; the shipped ones live in firmware-config/profiles/');

/** A camera role within a room, e.g. "panorama"; same alphabet as a profile name. */
export const CameraRole = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a camera role is 1–63 of a-z, 0-9 and "-"')
  .describe('camera role (机位), e.g. "panorama", "subject"');

/** The smallest number of officers the regulation allows at an investigation or hearing (执法人员不少于两人). */
export const MIN_OFFICERS_IN_ROOM = 2;

/** A room profile, as written in profiles/*.yaml or inline in a gateway config. */
export const RoomProfile = z
  .strictObject({
    name: ProfileName,
    kind: z
      .enum(['room', 'dock'])
      .describe(
        'room: a fixed recording place (询问室 interview room, 听证室 hearing room) with cameras; ' +
          'dock: a collection station (采集站) that offloads body-worn recorders (执法记录仪)',
      ),
    title: z
      .strictObject({
        zh: z.string().min(1).max(100).describe('name shown to people, in Chinese'),
        en: z.string().min(1).max(100).describe('name shown to people, in English'),
      })
      .describe('human-readable name of the profile'),
    segmentSeconds: z
      .number()
      .int()
      .min(2)
      .max(6)
      .default(4)
      .describe(
        'target segment length in seconds (2–6); the camera keyframe interval sets the real cut, ' +
          'and a crash loses at most one segment',
      ),
    cameras: z
      .strictObject({
        min: z.number().int().min(0).max(64).describe('fewest cameras a gateway in this room may have'),
        max: z.number().int().min(0).max(64).describe('most cameras a gateway in this room may have'),
        roles: z
          .array(CameraRole)
          .max(64)
          .refine((roles) => new Set(roles).size === roles.length, 'camera roles must be unique')
          .optional()
          .describe('camera roles (机位) of this room; when listed, a camera role must be one of them'),
      })
      .refine((c) => c.min <= c.max, { message: 'cameras.min must not exceed cameras.max', path: ['min'] })
      .describe('how many cameras the room has, and their roles'),
    audio: z
      .strictObject({
        required: z
          .boolean()
          .describe(
            'true: at least one camera must record audio (同步录音), e.g. for interviews and hearings',
          ),
      })
      .describe('audio requirements'),
    requiredElements: z
      .strictObject({
        caseId: z.boolean().describe('a case id (案件编号) is required before Start'),
        matter: z.boolean().describe('a matter (执法事项) from the matter list is required before Start'),
        officersMin: z
          .number()
          .int()
          .min(0)
          .max(50)
          .describe(
            'fewest officers (执法人员) with credential numbers (执法证号) before Start; at least 2 in a room',
          ),
        room: z.boolean().describe('the room (place of enforcement) is recorded with the case'),
      })
      .describe('recording elements (记录要素) the operator must give before Start'),
    caseIdPattern: CaseIdPattern.default(DEFAULT_CASE_ID_PATTERN),
    maxClockOffsetMs: z
      .number()
      .int()
      .min(1)
      .max(3_600_000)
      .default(2000)
      .describe('alarm when the gateway clock is off its reference by more than this many milliseconds'),
    stallSeconds: z
      .number()
      .int()
      .min(1)
      .max(300)
      .default(5)
      .describe('restart a camera capture (ffmpeg) when its output has not grown for this many seconds'),
    dock: DockSettings.optional().describe(
      'dock stations only: device mounts, identification, offload and wipe policy (defaults when absent)',
    ),
  })
  .superRefine((profile, ctx) => {
    if (profile.kind !== 'room') return;
    // Regulation item 17 (记录要素) and the two-officer rule of investigations and hearings.
    if (profile.requiredElements.officersMin < MIN_OFFICERS_IN_ROOM) {
      ctx.addIssue({
        code: 'custom',
        path: ['requiredElements', 'officersMin'],
        message: `a room needs at least ${MIN_OFFICERS_IN_ROOM} officers present (执法人员不少于两人)`,
      });
    }
    if (profile.cameras.min < 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['cameras', 'min'],
        message: 'a room records with at least 1 camera',
      });
    }
  })
  .describe('room profile (场所配置): the recording rules of one kind of room');

/** A parsed room profile, defaults filled in. */
export type RoomProfile = z.infer<typeof RoomProfile>;
/** A room profile as written, before defaults. */
export type RoomProfileInput = z.input<typeof RoomProfile>;
