import type { JobInput } from './model/job.js';

type TaskInput = JobInput['task'];
/** `image` or `build`, never both; a build is a Node `entry` or a `dockerfile` (the schema checks it again). */
type TaskImage =
  | { image: string; build?: never }
  | {
      image?: never;
      build:
        | { entry: string; base?: string; dockerfile?: never; context?: never }
        | { dockerfile: string; context?: string; entry?: never; base?: never };
    };

/** What `defineJob` accepts: the job schema's input, with the image choice spelled out for the type checker. */
export type DefineJobInput = Omit<JobInput, 'task'> & {
  task: Omit<TaskInput, 'image' | 'build'> & TaskImage;
};

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
export function defineJob(definition: DefineJobInput): JobDefinition {
  return { [JOB_BRAND]: true, definition };
}

export function isJobDefinition(value: unknown): value is JobDefinition {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB_BRAND] === true
  );
}
