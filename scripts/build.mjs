#!/usr/bin/env node
// Builds the package: `tsc -p tsconfig.build.json` (JavaScript + .d.ts into dist/), then copies the files
// tsc does not emit (the plugin's CommonJS shim and config schema, the dashboard's CSS and script).
// Run by `npm run build`, `prepare` (npm install in this repository) and `prepack` (npm pack / publish).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const clean = process.argv.includes('--clean');
if (clean || !existsSync(dist)) {
  rmSync(dist, { recursive: true, force: true });
  rmSync(join(root, 'node_modules/.cache/berth/tsbuildinfo'), { force: true });
}
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);

const copy = (rel) => {
  mkdirSync(dirname(join(dist, rel)), { recursive: true });
  cpSync(join(root, 'src', rel), join(dist, rel), { recursive: true });
};
for (const f of readdirSync(join(root, 'src/plugin'))) if (f.endsWith('.cjs')) copy(`plugin/${f}`);
copy('dashboard/assets');
