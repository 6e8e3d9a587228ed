import { z } from 'zod';
import type { Duration } from '../duration.js';
import { DEFAULT_SERVICE_OPTIONS } from '../scaling/backlog.js';
import { duration, strictObject } from './common.js';
import { retrySchema } from './retry.js';
import { checkTaskImage, checkTaskSize, taskSchema } from './task.js';
import { type QueueTrigger, type S3Trigger, type ScheduleTrigger, triggerSchema } from './trigger.js';

/** Longest job name: keeps every derived AWS name (roles 64, functions 64, queues 80) inside its limit. */
export const MAX_JOB_NAME_LENGTH = 32;
const NAME_RE = /^[a-z][a-z0-9-]*$/;

export const OVERLAP_POLICIES = ['allow', 'skip', 'queue'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

const SNS_ARN_RE = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
export const NOTIFY_ON = ['succeeded', 'failed', 'timed_out', 'cancelled', 'retrying'] as const;

/** Per-job notifications of outcomes, through SNS. */
export const notifySchema = strictObject({
  /** Final states (and `retrying`) that notify. @default ['failed', 'timed_out'] */
  on: z
    .array(z.enum(NOTIFY_ON, { error: `unknown state — use ${NOTIFY_ON.join(', ')}` }))
    .min(1)
    .default(['failed', 'timed_out']),
  /** Existing SNS topics to publish to. */
  sns: z
    .array(
      z
        .string()
        .regex(SNS_ARN_RE, { error: 'is not an SNS topic ARN — use arn:aws:sns:<region>:<account>:<topic>' }),
    )
    .default([]),
  /** Email addresses subscribed to a topic berth creates for the job (each must confirm once). */
  email: z.array(z.email({ error: 'is not an email address — write it like ops@example.com' })).default([]),
});

export const jobSchema = strictObject({
  /** Stable job name: `[a-z][a-z0-9-]*`, at most 32 characters. Renaming it creates a new job. */
  name: z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? `is missing — give the job a stable name such as 'resize-images'`
          : `must be a string, not ${typeof issue.input === 'object' ? 'an object' : String(issue.input)} — write the name in quotes, like 'resize-images'`,
    })
    .min(1, { error: `is empty — give the job a stable name such as 'resize-images'` })
    .max(MAX_JOB_NAME_LENGTH, {
      error: `is longer than ${MAX_JOB_NAME_LENGTH} characters — shorten it so every derived AWS name fits`,
    })
    .regex(NAME_RE, {
      error: `may only hold lowercase letters, digits and '-', starting with a letter — write it like 'resize-images'`,
    })
    .refine((n) => !n.endsWith('-') && !n.includes('--'), {
      error: `must not end with '-' or hold '--' — write it like 'resize-images'`,
    }),
  /** One line for people: shown by `berth list` and the dashboard. */
  description: z.string().max(256).optional(),
  /** What starts the job. Omit it for a job that is only invoked by hand. */
  trigger: triggerSchema.default({}),
  /** The container that runs. */
  task: taskSchema,
  /** What happens when an attempt fails. */
  retry: retrySchema.default({
    maxAttempts: 3,
    backoff: { minDelay: '10s', maxDelay: '5m', factor: 2, jitter: 0.2 },
    rules: [],
  }),
  /**
   * Longest an attempt may run; berth stops it after that and records `timed_out`. Not for service-mode jobs.
   * @default '1h' (applied by `validateJob`, so the checks below can tell a written timeout from the default)
   */
  timeout: duration({ minMs: 1000, maxMs: 14 * 86_400_000 }).optional(),
  /** Most runs of this job at once; the rest wait in the launch queue. Unlimited when unset. */
  maxConcurrency: z
    .number()
    .int()
    .min(1, { error: 'is below 1 — use 1 to 1000, or leave it out for no limit' })
    .max(1000, { error: 'is above 1000 — use 1 to 1000, or leave it out for no limit' })
    .optional(),
  /** What a schedule does when the previous run still runs. @default 'allow' */
  overlap: z
    .enum(OVERLAP_POLICIES, { error: `unknown overlap policy — use 'allow', 'skip' or 'queue'` })
    .default('allow'),
  /** Outcome notifications (SNS topics, email). */
  notify: notifySchema.optional(),
});

export type JobInput = z.input<typeof jobSchema>;
type ParsedJob = z.output<typeof jobSchema>;

export type JobTrigger =
  | ({ kind: 's3'; id: string } & S3Trigger)
  | ({ kind: 'schedule'; id: string } & ScheduleTrigger)
  | ({ kind: 'queue'; id: string } & QueueTrigger);
export type TriggerKind = JobTrigger['kind'] | 'manual';

/** A validated job with defaults applied and its triggers as a flat list. */
export interface Job extends Omit<ParsedJob, 'trigger' | 'timeout'> {
  triggers: JobTrigger[];
  /** Longest an attempt may run (`DEFAULT_TIMEOUT` when the file gives none). */
  timeout: Duration;
  /** Project-relative path of the file that defined the job. */
  file: string;
}

/** Timeout of a job that sets none. RunTask has no timeout of its own; a forgotten one must not bill forever. */
export const DEFAULT_TIMEOUT: Duration = '1h';

/** The full schema including cross-field checks. */
export const jobSchemaChecked = jobSchema.superRefine((job, ctx) => {
  checkServiceMode(job, ctx);
  checkJob(job, ctx);
});

/** Cross-field checks of a queue job in `mode: 'service'` (and service options given without it). */
function checkServiceMode(job: ParsedJob, ctx: z.RefinementCtx): void {
  const queue = job.trigger.queue;
  if (!queue) return;
  if (queue.mode !== 'service') {
    if (queue.service) {
      ctx.addIssue({
        code: 'custom',
        path: ['trigger', 'queue', 'service'],
        message: `service options only apply to mode 'service' — add mode: 'service' or remove service`,
      });
    }
    return;
  }
  const service = queue.service;
  const { minTasks, maxTasks } = { ...DEFAULT_SERVICE_OPTIONS, ...service };
  if (minTasks > maxTasks) {
    ctx.addIssue({
      code: 'custom',
      path: ['trigger', 'queue', 'service', 'minTasks'],
      message: `minTasks ${minTasks} is greater than maxTasks ${maxTasks} — raise maxTasks or lower minTasks`,
    });
  }
  for (const [i, w] of (service?.windows ?? []).entries()) {
    if (w.minTasks > w.maxTasks) {
      ctx.addIssue({
        code: 'custom',
        path: ['trigger', 'queue', 'service', 'windows', i, 'minTasks'],
        message: `minTasks ${w.minTasks} is greater than maxTasks ${w.maxTasks} — raise maxTasks or lower minTasks`,
      });
    }
  }
  if (queue.fifo && maxTasks > 1 && service?.messageGroups === undefined) {
    // A FIFO queue hands each message group to one consumer at a time: scaling past the number of groups adds
    // idle workers, and berth cannot know that number.
    ctx.addIssue({
      code: 'custom',
      path: ['trigger', 'queue', 'service', 'messageGroups'],
      message: `scaling a FIFO queue to ${maxTasks} workers needs to know its message groups (one group is processed by one worker at a time) — set service.messageGroups, or maxTasks: 1`,
    });
  } else if (!queue.fifo && service?.messageGroups !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['trigger', 'queue', 'service', 'messageGroups'],
      message: 'messageGroups only applies to FIFO queues — remove it or set fifo: true',
    });
  }
  if (job.timeout !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['timeout'],
      message: `a service-mode worker runs until it is scaled in, so a per-run timeout cannot apply — remove timeout (bound each message with the queue's visibilityTimeout instead) or use mode: 'task'`,
    });
  }
  if (job.trigger.s3 || job.trigger.schedule) {
    ctx.addIssue({
      code: 'custom',
      path: ['trigger'],
      message: `a service-mode job is fed by its queue only — move the s3 or schedule trigger to a separate job that sends to the queue, or use mode: 'task'`,
    });
  }
  if (job.maxConcurrency !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxConcurrency'],
      message:
        'a service-mode job is bounded by service.maxTasks — remove maxConcurrency and set service.maxTasks',
    });
  }
}

function checkJob(job: ParsedJob, ctx: z.RefinementCtx): void {
  checkTaskSize(job.task, ctx, ['task']);
  if (job.task.secretsKmsKeyArn && Object.keys(job.task.secrets).length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['task', 'secretsKmsKeyArn'],
      message:
        'names a KMS key for secrets but the job has no secrets — add task.secrets or remove secretsKmsKeyArn',
    });
  }
  checkTaskImage(job.task, ctx, ['task']);
  if (job.overlap !== 'allow' && !job.trigger.schedule) {
    // overlap only concerns schedules; accepting it elsewhere would suggest a guarantee berth does not give.
    ctx.addIssue({
      code: 'custom',
      path: ['overlap'],
      message: `'${job.overlap}' only applies to schedule triggers and this job has none — remove overlap or use maxConcurrency`,
    });
  }
  const queue = job.trigger.queue;
  if (queue?.fifo && queue.existing && !queue.existing.endsWith('.fifo')) {
    ctx.addIssue({
      code: 'custom',
      path: ['trigger', 'queue', 'existing'],
      message: `fifo is true but the queue name does not end in .fifo — use the FIFO queue's name or set fifo: false`,
    });
  }
}

export function normalizeTriggers(trigger: ParsedJob['trigger']): JobTrigger[] {
  const out: JobTrigger[] = [];
  const s3 = trigger.s3 === undefined ? [] : Array.isArray(trigger.s3) ? trigger.s3 : [trigger.s3];
  s3.forEach((t, i) => {
    out.push({ kind: 's3', id: `s3-${i}`, ...t });
  });
  const schedules =
    trigger.schedule === undefined
      ? []
      : Array.isArray(trigger.schedule)
        ? trigger.schedule
        : [trigger.schedule];
  schedules.forEach((t, i) => {
    out.push({ kind: 'schedule', id: `schedule-${i}`, ...t });
  });
  if (trigger.queue) out.push({ kind: 'queue', id: 'queue', ...trigger.queue });
  return out;
}
