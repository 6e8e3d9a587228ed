/**
 * Writes the JSON Schema of the outcome event detail to docs/events.schema.json, formatted by Biome.
 * Run: node --import tsx scripts/gen-schema.ts   (test/core/lifecycle/events.test.ts checks it is current)
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { outcomeDetailJsonSchema } from '../src/core/lifecycle/eventSchema.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_PATH = join(ROOT, 'docs/events.schema.json');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_PATH, `${JSON.stringify(outcomeDetailJsonSchema(), null, 2)}\n`);
  execFileSync(join(ROOT, 'node_modules/.bin/biome'), ['format', '--write', SCHEMA_PATH], {
    stdio: 'ignore',
  });
  process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
}
