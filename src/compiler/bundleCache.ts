/**
 * A build cache for the Lambda zips: `berth synth` and `serverless package` run again and again on the same
 * code, and esbuild + deflate is most of their time. An entry is keyed by everything the build is given
 * (entries, banner with the manifest, options, esbuild's version) and remembers every input file esbuild
 * read with its size and modification time; it is reused only while all of them are unchanged. Entries live
 * in the service's `.berth/cache/`; the newest few are kept. `BERTH_BUILD_CACHE=off` turns the cache off.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { version as esbuildVersion } from 'esbuild';

/** One output of a cached build (a zip, named by its Lambda kind). */
export interface CachedFile {
  name: string;
  data: Buffer;
}

interface InputStamp {
  path: string;
  size: number;
  mtimeMs: number;
}

interface CacheEntry {
  inputs: InputStamp[];
  files: { name: string; data: string }[];
}

/** Modification times of some file systems have a granularity of 1–2 s. */
const MTIME_SLACK_MS = 2000;

/** Entries kept per cache folder (a few stages or branches of one service). */
export const CACHE_ENTRIES_KEPT = 12;

/**
 * The cache folder of a service directory: `.berth/cache/`, beside berth's other local state (a service's
 * `node_modules` may be a link to a shared tree, and Serverless empties `.serverless/` on every package).
 */
export function buildCacheDir(serviceDir: string): string | undefined {
  if (process.env.BERTH_BUILD_CACHE === 'off') return undefined;
  return join(serviceDir, '.berth', 'cache');
}

function stamp(path: string): InputStamp | undefined {
  try {
    const s = statSync(path);
    return { path, size: s.size, mtimeMs: s.mtimeMs };
  } catch {
    return undefined;
  }
}

function read(file: string): CachedFile[] | undefined {
  let entry: CacheEntry;
  try {
    entry = JSON.parse(readFileSync(file, 'utf8')) as CacheEntry;
  } catch {
    return undefined;
  }
  for (const input of entry.inputs) {
    const now = stamp(input.path);
    if (!now || now.size !== input.size || now.mtimeMs !== input.mtimeMs) return undefined;
  }
  return entry.files.map((f) => ({ name: f.name, data: Buffer.from(f.data, 'base64') }));
}

function prune(dir: string): void {
  const entries = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { f } of entries.slice(CACHE_ENTRIES_KEPT)) rmSync(join(dir, f), { force: true });
}

/**
 * Returns the files of `build()`, from the cache when an entry for `key` exists and none of its inputs
 * changed; otherwise builds, then stores the result with the stamps of `inputs` (absolute paths).
 */
export async function cachedBuild(
  cacheDir: string | undefined,
  key: unknown,
  build: () => Promise<{ files: CachedFile[]; inputs: string[] }>,
): Promise<CachedFile[]> {
  if (!cacheDir) return (await build()).files;
  const hash = createHash('sha256')
    .update(JSON.stringify({ esbuildVersion, node: process.version, key }))
    .digest('hex');
  const file = join(cacheDir, `${hash.slice(0, 32)}.json`);
  const hit = existsSync(file) ? read(file) : undefined;
  if (hit) return hit;
  const started = Date.now();
  const built = await build();
  const inputs: InputStamp[] = [];
  for (const path of built.inputs) {
    const s = stamp(path);
    // An input that vanished, or changed around the build (modification times are coarser than the clock:
    // allow for it), may not match the output: do not cache it; the next build will.
    if (!s || s.mtimeMs >= started - MTIME_SLACK_MS) return built.files;
    inputs.push(s);
  }
  try {
    mkdirSync(cacheDir, { recursive: true });
    const entry: CacheEntry = {
      inputs,
      files: built.files.map((f) => ({ name: f.name, data: f.data.toString('base64') })),
    };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(entry));
    renameSync(tmp, file);
    prune(cacheDir);
  } catch {
    // A read-only or full disk only costs the next build its cache.
  }
  return built.files;
}
