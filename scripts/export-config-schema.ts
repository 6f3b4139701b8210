#!/usr/bin/env -S node --import tsx
/** @module Writes the JSON Schemas of the gateway config, room profiles and matter list into firmware-config/schema/. */
import { execFileSync } from 'node:child_process';
import { writeConfigJsonSchemas } from '../firmware-config/json-schema.ts';

const files = await writeConfigJsonSchemas();
// Formatted as biome formats JSON, so `biome check .` stays clean right after an export.
execFileSync('npx', ['--no-install', 'biome', 'format', '--write', ...files], { stdio: 'inherit' });
for (const file of files) console.log(`wrote ${file}`);
