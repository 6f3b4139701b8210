/** @module The matter list (音像记录事项清单): enforcement matters that must or may be audio/video recorded. */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { invalidConfig, parseWith, readConfigFile } from './config-file.ts';
import { ProfileName } from './room-profile.ts';
import { type RoomProfiles, shippedRoomProfiles } from './room-profiles.ts';

/** The matter list shipped with the code. */
export const MATTERS_FILE = fileURLToPath(new URL('./matters.yaml', import.meta.url));

/** The kinds of enforcement the regulation names (行政处罚、行政强制、行政检查、行政许可、行政征收征用). */
export const MatterCategory = z
  .enum(['penalty', 'coercion', 'inspection', 'licensing', 'expropriation', 'general'])
  .describe(
    'kind of enforcement: penalty 行政处罚, coercion 行政强制, inspection 行政检查, licensing 行政许可, ' +
      'expropriation 行政征收征用, general 通用 (steps common to several kinds)',
  );

/** One matter type (执法事项) of the list. */
export const Matter = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a matter id is 1–63 of a-z, 0-9 and "-"')
      .describe('stable matter id, kebab-case ASCII; recorded with each recording'),
    zh: z.string().min(1).max(100).describe('matter name in Chinese, as published in the list'),
    en: z.string().min(1).max(100).describe('matter name in English'),
    category: MatterCategory,
    mandatory: z
      .boolean()
      .describe(
        'true: full-process recording (全程音像记录) is required, and a case of this matter cannot be closed ' +
          'without a recording; false: recorded as the situation requires (根据实际情况)',
      ),
    rooms: z
      .array(ProfileName)
      .min(1)
      .optional()
      .describe(
        'room profiles where this matter is recorded (dock-station: body-worn recorders); unset: any',
      ),
  })
  .describe('a matter type (执法事项)');
/** A parsed matter. */
export type Matter = z.infer<typeof Matter>;

/** The whole list; matter ids are unique. */
export const MatterList = z
  .strictObject({
    basis: z.string().min(1).max(500).describe('the rules this list implements (制定依据)'),
    matters: z
      .array(Matter)
      .min(1)
      .superRefine((matters, ctx) => {
        const seen = new Set<string>();
        matters.forEach((m, i) => {
          if (seen.has(m.id))
            ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `matter id "${m.id}" is used twice` });
          seen.add(m.id);
        });
      })
      .describe('the matters'),
  })
  .describe('audio/video recording matter list (音像记录事项清单)');
/** A parsed matter list. */
export type MatterList = z.infer<typeof MatterList>;

/**
 * Reads and parses a matter list, and checks that every `rooms` entry names a known profile.
 * Throws GatewayError GW_CONFIG_UNREADABLE or GW_CONFIG_INVALID.
 */
export async function loadMatterList(
  file: string = MATTERS_FILE,
  options: { profiles?: RoomProfiles } = {},
): Promise<MatterList> {
  const what = `matter list ${file}`;
  const list = parseWith(MatterList, await readConfigFile(file), what);
  const profiles = options.profiles ?? shippedRoomProfiles();
  const problems: string[] = [];
  list.matters.forEach((m, i) => {
    m.rooms?.forEach((room, j) => {
      if (!profiles.has(room)) problems.push(`matters[${i}].rooms[${j}]: no room profile named "${room}"`);
    });
  });
  if (problems.length > 0) throw invalidConfig(what, problems);
  return list;
}

/** The matters that can be recorded under a profile: those listing it, and those listing no rooms. */
export function mattersForProfile(list: MatterList, profile: string): Matter[] {
  return list.matters.filter((m) => m.rooms === undefined || m.rooms.includes(profile));
}
