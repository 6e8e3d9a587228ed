/**
 * Buckets are folders: `.berth/buckets/<bucket>/<key>`. A file that appears there (once it is completely
 * written, see `watchBuckets`) becomes the same EventBridge "Object Created" event S3 sends, and is matched
 * against each job's S3 trigger the way berth's EventBridge rule matches it.
 *
 * The key is the file's path under the bucket folder with `/` between folders, exactly as the file system
 * names it (no Unicode normalisation, no case folding, no URL encoding): what S3 would keep for the same
 * upload. Symbolic links never lead out of the bucket folder: a link is followed only when its target is a
 * file inside the same bucket folder, and a linked folder is not watched. A file whose key S3 would refuse
 * (over 1,024 bytes of UTF-8, a name that is not UTF-8) is reported, never renamed into another key.
 */
import { isUtf8 } from 'node:buffer';
import { createHash, randomUUID } from 'node:crypto';
import {
  copyFileSync,
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  utimesSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import type { TriggerPayload } from '../../core/lifecycle/trigger.js';
import type { Job } from '../../core/model/job.js';
import type { S3Trigger } from '../../core/model/trigger.js';

/** Accounts used in local events: the documentation account ids, never a real one. */
const LOCAL_ACCOUNT = '123456789012';
const LOCAL_REGION = 'us-east-1';
/** Files `berth put` writes before renaming them into place; never events. */
export const TEMP_PREFIX = '.berth-put-';
/** How far `berth put` dates its objects' mtime back, marking them complete (see `watchBuckets`). */
export const PUT_BACKDATE_MS = 1000;
/** S3: an object key is at most 1,024 bytes of UTF-8. */
export const S3_MAX_KEY_BYTES = 1024;

/**
 * Why S3 would refuse `key`, or undefined when it would keep it: empty, longer than 1,024 bytes of UTF-8,
 * or not valid Unicode (a lone surrogate).
 */
export function s3KeyProblem(key: string): string | undefined {
  if (key === '') return 'the key is empty';
  if (/\p{Cs}/u.test(key)) return 'the key is not valid Unicode (a lone surrogate)';
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > S3_MAX_KEY_BYTES) {
    return `the key is ${bytes} bytes of UTF-8; S3 keys are at most ${S3_MAX_KEY_BYTES} — use a shorter path`;
  }
  return undefined;
}

/**
 * Why a bucket folder cannot hold `key` as the same key, or undefined: the folder's path would silently
 * turn it into another key (`a//b` → `a/b`, `./a` → `a`, `a/` is a folder), or lead out of the bucket (`..`).
 */
export function folderKeyProblem(key: string): string | undefined {
  const s3 = s3KeyProblem(key);
  if (s3) return s3;
  if (key.startsWith('/') || isAbsolute(key)) return 'the key starts with /';
  const segments = key.split('/');
  if (segments.includes('..')) return 'the key has a .. segment';
  if (segments.includes('.')) return 'the key has a . segment, which a folder cannot keep';
  if (segments.includes(''))
    return 'the key has an empty segment (// or a trailing /), which a folder cannot keep';
  if (sep !== '/' && key.includes(sep)) return `the key contains ${sep}, which is a folder separator here`;
  if (key.includes('\0')) return 'the key contains a NUL character';
  return undefined;
}

/** True when `child` is `parent` or inside it (both absolute, resolved). */
function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

export interface S3ObjectCreatedEvent {
  version: '0';
  id: string;
  'detail-type': 'Object Created';
  source: 'aws.s3';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    version: '0';
    bucket: { name: string };
    object: { key: string; size: number; etag: string; sequencer: string };
    'request-id': string;
    requester: string;
    reason: 'PutObject';
  };
}

/**
 * S3's sequencer is a hex string that grows with each event for a key. Locally: the file's mtime in
 * microseconds, in hex, left-padded to 16 characters, so a rewrite of the same key is a new event.
 */
export function sequencerFor(mtimeMs: number): string {
  return Math.round(mtimeMs * 1000)
    .toString(16)
    .toUpperCase()
    .padStart(16, '0');
}

export function objectCreatedEvent(input: {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  mtimeMs: number;
  time?: Date;
}): S3ObjectCreatedEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: LOCAL_ACCOUNT,
    time: (input.time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: LOCAL_REGION,
    resources: [`arn:aws:s3:::${input.bucket}`],
    detail: {
      version: '0',
      bucket: { name: input.bucket },
      object: { key: input.key, size: input.size, etag: input.etag, sequencer: sequencerFor(input.mtimeMs) },
      'request-id': randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase(),
      requester: LOCAL_ACCOUNT,
      reason: 'PutObject',
    },
  };
}

/**
 * Whether an event matches a job's S3 trigger, as the EventBridge rule does: exact bucket name; a key
 * `prefix` pattern, a `suffix` pattern, or both as one `wildcard` (`prefix*suffix`, where `*` may be empty).
 * Case-sensitive, no normalisation.
 */
export function matchesS3Trigger(trigger: S3Trigger, event: S3ObjectCreatedEvent): boolean {
  if (event.detail.bucket.name !== trigger.bucket) return false;
  if (!trigger.events.includes(event['detail-type'])) return false;
  const key = event.detail.object.key;
  const prefix = trigger.prefix ?? '';
  const suffix = trigger.suffix ?? '';
  return key.length >= prefix.length + suffix.length && key.startsWith(prefix) && key.endsWith(suffix);
}

/** The run's trigger payload for an S3 event. */
export function s3TriggerPayload(event: S3ObjectCreatedEvent): TriggerPayload {
  return {
    kind: 's3',
    bucket: event.detail.bucket.name,
    key: event.detail.object.key,
    size: event.detail.object.size,
    etag: event.detail.object.etag,
    sequencer: event.detail.object.sequencer,
    time: event.time,
  };
}

/** MD5 of a file, as S3 computes the ETag of a single-part upload. */
export async function fileEtag(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every bucket some job listens to. */
export function watchedBuckets(jobs: readonly Job[]): string[] {
  const names = new Set<string>();
  for (const job of jobs) for (const t of job.triggers) if (t.kind === 's3') names.add(t.bucket);
  return [...names].sort();
}

/**
 * `berth put`: copies a file into a bucket folder atomically (temp file in the same folder, then rename), so
 * the watcher never sees half a file. The copy's mtime is dated `PUT_BACKDATE_MS` back, which tells the
 * watcher the file is complete: it is seen at once, without the wait for files written in place. (Still
 * later than any earlier put of the key, so each put is a new event with a greater sequencer.)
 */
export function putObject(bucketsDir: string, bucket: string, source: string, key?: string): string {
  if (!existsSync(source)) throw new Error(`${source}: no such file — give the path of a file to put`);
  const objectKey = key ?? basename(source);
  const problem = folderKeyProblem(objectKey);
  if (problem) {
    throw new Error(
      `--key: "${objectKey}" is not a valid key (${problem}) — use a relative key such as images/cat.jpg`,
    );
  }
  const target = join(bucketsDir, bucket, ...objectKey.split('/'));
  mkdirSync(dirname(target), { recursive: true });
  const temp = join(dirname(target), `${TEMP_PREFIX}${randomUUID()}`);
  try {
    copyFileSync(source, temp);
    const at = new Date(Date.now() - PUT_BACKDATE_MS);
    utimesSync(temp, at, at);
    renameSync(temp, target);
  } catch (error) {
    if (existsSync(temp)) unlinkSync(temp);
    throw error;
  }
  return target;
}

export interface BucketWatcherOptions {
  bucketsDir: string;
  buckets: readonly string[];
  onObject: (event: S3ObjectCreatedEvent) => void;
  /** Watcher failures, and files that are not objects: links out of the bucket, keys S3 would refuse. */
  onError?: (error: Error) => void;
  /** How long a file must go unmodified before it counts as written. @default 100 */
  stabilityMs?: number;
}

/**
 * How long to wait before a file counts as completely written: 0 when its modification time is at least
 * `stabilityMs` old (nothing wrote it since), else until it will be. A whole-second mtime may be a coarse
 * file system's rounding (FAT, some network mounts), which could hide a recent write: then the full wait.
 */
export function settleDelay(st: Pick<Stats, 'mtimeMs'>, stabilityMs: number, now = Date.now()): number {
  if (st.mtimeMs % 1000 === 0) return stabilityMs;
  return Math.max(0, Math.ceil(st.mtimeMs + stabilityMs - now));
}

/**
 * Watches the bucket folders; emits one event per completely written file (existing files on start too).
 * The rule for "completely written": the file's modification time is at least `stabilityMs` old. A file
 * renamed into place whole with an older mtime (`berth put` dates its files back; `mv`, `rsync -t`,
 * `cp -p` of an older file) is seen at once; a file written in place is seen once nothing has written to it
 * for `stabilityMs` (and `berth put`'s are only immediate while `stabilityMs` ≤ `PUT_BACKDATE_MS`).
 */
export async function watchBuckets(options: BucketWatcherOptions): Promise<FSWatcher> {
  for (const b of options.buckets) mkdirSync(join(options.bucketsDir, b), { recursive: true });
  const stabilityMs = options.stabilityMs ?? 100;
  // The real location of each bucket folder: a file counts only when it really lies inside its bucket's.
  const roots = new Map(options.buckets.map((b) => [b, realpathSync(join(options.bucketsDir, b))]));
  const watcher = watch(
    options.buckets.map((b) => join(options.bucketsDir, b)),
    {
      ignoreInitial: false,
      // A linked folder is not entered; a linked file is reported as the link (checked in `check`).
      followSymlinks: false,
      ignored: (path: string) => basename(path).startsWith(TEMP_PREFIX),
    },
  );
  const reported = new Set<string>();
  const report = (path: string, why: string) => {
    const line = `${path}: ${why}`;
    if (reported.has(line)) return;
    reported.add(line);
    options.onError?.(new Error(line));
  };
  const waiting = new Map<string, NodeJS.Timeout>();
  let closed = false;
  const emit = async (path: string, real: string, st: Stats) => {
    const rel = relative(options.bucketsDir, path).split(sep);
    const bucket = rel[0];
    const key = rel.slice(1).join('/');
    if (!bucket || !key) return;
    const problem = s3KeyProblem(key);
    if (problem) {
      report(path, `not an object: S3 would refuse its key (${problem})`);
      return;
    }
    options.onObject(
      objectCreatedEvent({ bucket, key, size: st.size, etag: await fileEtag(real), mtimeMs: st.mtimeMs }),
    );
  };
  /**
   * The file a path stands for when it is an object: itself, or a link's target inside the same bucket
   * folder. Undefined (and reported) for a link that leads out of the bucket or to something not a file.
   */
  const resolveObject = (path: string): string | undefined => {
    const link = lstatSync(path);
    if (!link.isSymbolicLink()) return link.isFile() ? path : undefined;
    const bucket = relative(options.bucketsDir, path).split(sep)[0] ?? '';
    const root = roots.get(bucket);
    let target: string;
    try {
      target = realpathSync(path);
    } catch {
      report(path, 'not an object: a symbolic link whose target does not exist');
      return undefined;
    }
    if (!root || !isInside(root, target)) {
      report(
        path,
        `not an object: a symbolic link to ${target}, outside the bucket folder — berth dev does not follow links out of .berth/buckets/${bucket}; copy the file in (berth put) instead`,
      );
      return undefined;
    }
    return statSync(target).isFile() ? target : undefined;
  };
  const check = async (path: string) => {
    clearTimeout(waiting.get(path));
    waiting.delete(path);
    if (closed) return;
    try {
      const real = resolveObject(path);
      if (real === undefined) return;
      const st = statSync(real);
      const delay = settleDelay(st, stabilityMs);
      if (delay > 0) {
        // Still being written (or just was): look again when it would have settled.
        waiting.set(
          path,
          setTimeout(() => void check(path), delay),
        );
        return;
      }
      await emit(path, real, st);
    } catch (error) {
      // A file removed between the event and the stat is simply gone.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') options.onError?.(error as Error);
    }
  };
  /**
   * Names that are not UTF-8 reach no event (the watcher cannot stat the U+FFFD name Node gives them), so
   * each folder is listed as bytes when it appears, and again when a change in it names such a file.
   */
  const checkNames = (folder: string) => {
    try {
      for (const name of readdirSync(folder, { encoding: 'buffer' })) {
        if (!isUtf8(name) && !name.toString('latin1').startsWith(TEMP_PREFIX)) {
          report(
            join(folder, name.toString('utf8')),
            'not an object: its name is not UTF-8, and S3 keys are UTF-8 — rename the file',
          );
        }
      }
    } catch {
      // Gone again, or not a folder.
    }
  };
  watcher.on('addDir', (p) => checkNames(p));
  watcher.on('raw', (_event, name, details) => {
    const folder = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
    if (typeof name === 'string' && name.includes('\uFFFD') && typeof folder === 'string') checkNames(folder);
  });
  watcher.on('add', (p) => void check(p));
  watcher.on('change', (p) => void check(p));
  watcher.on('error', (e) => options.onError?.(e as Error));
  const close = watcher.close.bind(watcher);
  watcher.close = async () => {
    closed = true;
    for (const t of waiting.values()) clearTimeout(t);
    waiting.clear();
    await close();
  };
  await new Promise<void>((r) => watcher.once('ready', () => r()));
  // A folder created while the watcher was still scanning (a file put into a bucket just added by a reload)
  // can be missed by that scan. Offer every file present now once more: the watcher sees what comes later,
  // and an object offered twice is the same event (same key, etag and time), dropped as a duplicate.
  for (const root of options.buckets.map((b) => join(options.bucketsDir, b))) {
    for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
      if (entry.isDirectory() || entry.name.startsWith(TEMP_PREFIX)) continue;
      const path = join(entry.parentPath, entry.name);
      if (!waiting.has(path)) void check(path);
    }
  }
  return watcher;
}
