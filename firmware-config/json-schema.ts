/** @module JSON Schemas of the config files, generated from the zod schemas, for editors and other tools. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { GatewayConfig } from './gateway-config.ts';
import { MatterList } from './matters.ts';
import { RoomProfile } from './room-profile.ts';

/** The folder of the committed schema files. */
export const SCHEMA_DIR = fileURLToPath(new URL('./schema/', import.meta.url));

/** A JSON Schema document. */
export type JsonSchema = Record<string, unknown>;

// io 'input': describes the file as written, so fields with defaults are optional for editors.
function toJsonSchema(schema: z.ZodType, title: string): JsonSchema {
  const { $schema, ...rest } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
  return { $schema, title, ...rest };
}

/** Every exported schema, by file name under SCHEMA_DIR. */
export function configJsonSchemas(): Record<string, JsonSchema> {
  return {
    'gateway-config.schema.json': toJsonSchema(GatewayConfig, 'quanlu gateway configuration'),
    'room-profile.schema.json': toJsonSchema(RoomProfile, 'quanlu room profile'),
    'matter-list.schema.json': toJsonSchema(MatterList, 'quanlu matter list'),
  };
}

/** Writes every schema into `dir` (default SCHEMA_DIR) and returns the files written. */
export async function writeConfigJsonSchemas(dir: string = SCHEMA_DIR): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, schema] of Object.entries(configJsonSchemas())) {
    const file = join(dir, name);
    await writeFile(file, `${JSON.stringify(schema, null, 2)}\n`);
    written.push(file);
  }
  return written;
}
