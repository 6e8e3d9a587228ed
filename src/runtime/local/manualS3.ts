/**
 * Invoking an S3-triggered job by hand (`berth invoke <job> --bucket b --key k`, the dashboard's "Run now"
 * with a key): the run gets the S3-shaped trigger a file written into the bucket folder would give it, from
 * the object in `.berth/buckets/<bucket>/<key>` (its real size and ETag). Each invocation is a new event (a
 * new sequencer), so invoking twice runs twice.
 */
import { realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { BerthError } from '../../core/errors.js';
import type { TriggerPayload } from '../../core/lifecycle/trigger.js';
import type { Job } from '../../core/model/job.js';
import { fileEtag, folderKeyProblem, objectCreatedEvent, s3TriggerPayload } from './buckets.js';
import type { DevPaths } from './paths.js';

export interface ManualS3 {
  /** Defaults to the job's bucket when its S3 triggers name one. */
  bucket?: string;
  key: string;
}

export class ManualS3Error extends BerthError {
  override name = 'ManualS3Error';
}

/** The buckets a job's S3 triggers listen to, in trigger order, without repeats. */
export function s3BucketsOf(job: Job): string[] {
  const out: string[] = [];
  for (const t of job.triggers) if (t.kind === 's3' && !out.includes(t.bucket)) out.push(t.bucket);
  return out;
}

export async function manualS3Trigger(paths: DevPaths, job: Job, input: ManualS3): Promise<TriggerPayload> {
  const buckets = s3BucketsOf(job);
  if (buckets.length === 0) {
    throw new ManualS3Error(
      `${job.file}: job '${job.name}' has no s3 trigger — give it trigger: { s3: { bucket: … } }, or invoke it with a payload instead`,
    );
  }
  let bucket = input.bucket;
  if (bucket === undefined || bucket === '') {
    if (buckets.length > 1) {
      throw new ManualS3Error(
        `bucket: job '${job.name}' listens to ${buckets.join(', ')} — say which one (--bucket <name>)`,
      );
    }
    bucket = buckets[0] as string;
  }
  if (!buckets.includes(bucket)) {
    throw new ManualS3Error(
      `bucket: "${bucket}" is not a bucket job '${job.name}' listens to — use ${buckets.join(' or ')}`,
    );
  }
  const problem = folderKeyProblem(input.key);
  if (problem) {
    throw new ManualS3Error(
      `key: "${input.key}" is not a valid key (${problem}) — use a key such as images/cat.jpg`,
    );
  }
  const root = join(paths.buckets, bucket);
  const file = join(root, ...input.key.split('/'));
  const put = `put it there first: berth put ${bucket} <file> --key ${input.key}`;
  let real: string;
  let size: number;
  let mtimeMs: number;
  try {
    real = realpathSync(file);
    const st = statSync(real);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
    mtimeMs = st.mtimeMs;
  } catch {
    throw new ManualS3Error(`key: no object ${input.key} in ${root} — ${put}`);
  }
  const rel = relative(realpathSync(root), real);
  if (rel.startsWith(`..${sep}`) || rel === '..' || rel.startsWith(sep)) {
    throw new ManualS3Error(
      `key: ${file} is a link that leads out of the bucket folder — replace it with the file itself`,
    );
  }
  const event = objectCreatedEvent({
    bucket,
    key: input.key,
    size,
    etag: await fileEtag(real),
    // A new sequencer for each invocation: invoking twice is two events, as two PUTs would be.
    mtimeMs: Math.max(mtimeMs, performance.timeOrigin + performance.now()),
  });
  return s3TriggerPayload(event);
}
