/** @module The officer list (执法人员名单) Start checks credential numbers against: a local file, or a copy synced from the ingest. */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { GatewayError } from '../errors.ts';

/** An officer credential number (执法证号): letters, digits and dashes. */
export const CredentialNumber = z
  .string()
  .regex(/^[A-Za-z0-9-]{4,32}$/, 'a credential number is 4–32 of A-Z, a-z, 0-9 and "-"')
  .describe('officer credential number (执法证号)');

/** One officer. */
export const Officer = z.strictObject({
  id: CredentialNumber,
  name: z.string().min(1).max(100).describe('name shown to the operator'),
});
/** An officer. */
export type Officer = z.infer<typeof Officer>;

/** The file: `officers: [{ id, name }]`, ids unique. */
export const OfficerList = z
  .strictObject({
    officers: z
      .array(Officer)
      .max(10_000)
      .refine((list) => new Set(list.map((o) => o.id)).size === list.length, 'an officer is listed twice'),
  })
  .describe('officer list (执法人员名单)');

/** Where the officer list came from, as the console shows it. */
export type OfficerSource = 'file' | 'ingest' | 'none';

/** Reads and parses an officer list (YAML or JSON). Throws GW_OFFICERS_UNREADABLE. */
export async function loadOfficerList(file: string): Promise<Officer[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new GatewayError('GW_OFFICERS_UNREADABLE', `cannot read the officer list ${file}`, { cause });
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (cause) {
    throw new GatewayError('GW_OFFICERS_UNREADABLE', `the officer list ${file} is not YAML or JSON`, {
      cause,
    });
  }
  const parsed = OfficerList.safeParse(value);
  if (!parsed.success) {
    throw new GatewayError(
      'GW_OFFICERS_UNREADABLE',
      `the officer list ${file} does not match its schema: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data.officers;
}
