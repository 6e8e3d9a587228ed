import type { JobInput } from './model/job.js';

/** Marks a default export as a berth job. */
export const JOB_BRAND = Symbol.for('berth.job');

export interface JobDefinition {
  readonly [JOB_BRAND]: true;
  readonly definition: JobInput;
}

/**
 * Declares one job. Default-export it from a file in `jobs/`. Validation runs when berth loads the file,
 * so every problem is reported with the file name, the field and the fix.
 *
 * @example
 * import { defineJob } from 'berth';
 *
 * export default defineJob({
 *   name: 'thumbnail',
 *   trigger: { s3: { bucket: 'uploads', prefix: 'images/', suffix: '.jpg' } },
 *   task: { image: 'public.ecr.aws/my/thumbnailer:1', cpu: 512, memory: 1024 },
 * });
 */
export function defineJob(definition: JobInput): JobDefinition {
  return { [JOB_BRAND]: true, definition };
}

export function isJobDefinition(value: unknown): value is JobDefinition {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB_BRAND] === true
  );
}
