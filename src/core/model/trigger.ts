import { z } from 'zod';
import { checkScheduleExpression, checkTimeZone, instantOfZonedIso } from '../schedule/index.js';
import { duration, jsonValue, strictObject } from './common.js';

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const S3_EVENT_KINDS = ['Object Created'] as const;

/**
 * Runs the job when an object is created in an S3 bucket (through EventBridge).
 * @example trigger: { s3: { bucket: 'uploads', prefix: 'images/', suffix: '.jpg' } }
 */
export const s3TriggerSchema = strictObject({
  /** Bucket name (not an ARN). */
  bucket: z.string().regex(BUCKET_RE, {
    error: 'is not a valid S3 bucket name — use 3-63 lowercase letters, digits, dots and hyphens, not an ARN',
  }),
  /** Only keys that start with this prefix. */
  prefix: z.string().min(1).optional(),
  /** Only keys that end with this suffix (for example `.jpg`). */
  suffix: z.string().min(1).optional(),
  /**
   * EventBridge detail-types to react to.
   * @default ['Object Created']
   */
  events: z
    .array(z.enum(S3_EVENT_KINDS, { error: `unknown S3 event kind — use 'Object Created'` }))
    .min(1)
    .default(['Object Created']),
});

const ISO_DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const isoDateTime = z.string().refine((v) => ISO_DATE_TIME_RE.test(v) && !Number.isNaN(Date.parse(v)), {
  error: 'is not an ISO-8601 date-time — write it like 2026-12-01T09:00:00',
});

export type ScheduleExpression = `cron(${string})` | `rate(${string})` | `at(${string})`;

/**
 * Runs the job on an EventBridge Scheduler schedule, in a time zone.
 * @example trigger: { schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Asia/Seoul' } }
 */
const scheduleTriggerFields = strictObject({
  /** `cron(min hour dom month dow year)`, `rate(5 minutes)` or `at(2026-12-01T09:00:00)`. */
  expression: z.string().superRefine((expr, ctx) => {
    const problem = checkScheduleExpression(expr);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }) as unknown as z.ZodType<ScheduleExpression, ScheduleExpression>,
  /**
   * IANA time zone the expression is read in.
   * @default 'UTC'
   */
  timezone: z
    .string()
    .default('UTC')
    .superRefine((tz, ctx) => {
      const problem = checkTimeZone(tz);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** Let the scheduler start up to this much later, spreading load (1m–24h). `off` by default. */
  flexibleWindow: z.union([z.literal('off'), duration({ minMs: 60_000, maxMs: 86_400_000 })]).default('off'),
  /** Fixed JSON payload passed to every run. */
  payload: jsonValue.optional(),
  /** Start of the schedule (ISO-8601, read in the time zone). */
  startDate: isoDateTime.optional(),
  /** End of the schedule (ISO-8601, read in the time zone). */
  endDate: isoDateTime.optional(),
});

export const scheduleTriggerSchema = scheduleTriggerFields.superRefine((s, ctx) => {
  if (s.startDate === undefined || s.endDate === undefined || checkTimeZone(s.timezone)) return;
  let start: number;
  let end: number;
  try {
    start = instantOfZonedIso(s.startDate, s.timezone);
    end = instantOfZonedIso(s.endDate, s.timezone);
  } catch {
    return; // the field checks above report a date that does not parse
  }
  if (start > end) {
    ctx.addIssue({
      code: 'custom',
      path: ['startDate'],
      message: `startDate ${s.startDate} is after endDate ${s.endDate}, so the schedule never fires — swap them or fix one`,
    });
  }
});

const QUEUE_ARN_RE = /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
const QUEUE_NAME_RE = /^[A-Za-z0-9_-]{1,75}(\.fifo)?$/;

export const QUEUE_MODES = ['task', 'service'] as const;
export type QueueMode = (typeof QUEUE_MODES)[number];

/**
 * One step of step scaling: when the queue holds at least `visibleAtLeast` visible messages, add `addTasks`.
 * @example { visibleAtLeast: 500, addTasks: 5 }
 */
export const scalingStepSchema = strictObject({
  /** ApproximateNumberOfMessagesVisible (Maximum over a minute) at which this step applies. */
  visibleAtLeast: z.number().int().min(1),
  /** Tasks added when the alarm fires in this step's band. */
  addTasks: z.number().int().min(1).max(1000),
});

/**
 * A scheduled scaling window: at each fire of `cron`, the task range becomes `minTasks`..`maxTasks`
 * (an Application Auto Scaling scheduled action in `timezone`).
 * @example { cron: 'cron(0 8 ? * MON-FRI *)', timezone: 'Europe/Paris', minTasks: 5, maxTasks: 50 }
 */
export const scalingWindowSchema = strictObject({
  /** `cron(min hour dom month dow year)`, read in `timezone`. */
  cron: z.string().superRefine((expr, ctx) => {
    if (!/^cron\(/.test(expr.trim())) {
      ctx.addIssue({
        code: 'custom',
        message: `"${expr}" is not a cron expression — scaling windows take cron(min hour dom month dow year), like cron(0 8 ? * MON-FRI *)`,
      });
      return;
    }
    const problem = checkScheduleExpression(expr);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }) as unknown as z.ZodType<`cron(${string})`>,
  /** IANA time zone the cron is read in. @default 'UTC' */
  timezone: z
    .string()
    .default('UTC')
    .superRefine((tz, ctx) => {
      const problem = checkTimeZone(tz);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** Lowest task count from this fire on. */
  minTasks: z.number().int().min(0).max(1000),
  /** Highest task count from this fire on. */
  maxTasks: z.number().int().min(1).max(1000),
});

/**
 * Options of a service-mode queue job: long-running workers that poll the queue, sized by ECS service
 * auto scaling. Only valid with `mode: 'service'`.
 * @example service: { minTasks: 0, maxTasks: 20, backlogPerTask: 50 }
 */
export const serviceOptionsSchema = strictObject({
  /** Fewest workers; 0 lets the service scale to zero when the queue is empty. @default 1 */
  minTasks: z.number().int().min(0).max(1000).default(1),
  /** Most workers. @default 10 */
  maxTasks: z.number().int().min(1).max(1000).default(10),
  /**
   * Target backlog per task: visible messages ÷ running workers that one worker clears within your
   * acceptable latency (latency ÷ seconds per message). @default 10
   */
  backlogPerTask: z.number().min(1).max(100_000).default(10),
  /** Step scaling on ApproximateNumberOfMessagesVisible, for bursts faster than target tracking reacts. */
  stepScaling: z.array(scalingStepSchema).min(1).max(20).optional(),
  /** Also track average CPU utilisation (percent) of the workers. */
  cpuTarget: z.number().min(1).max(100).optional(),
  /** Also track average memory utilisation (percent) of the workers. */
  memoryTarget: z.number().min(1).max(100).optional(),
  /** Scheduled scaling windows (cron in a time zone). */
  windows: z.array(scalingWindowSchema).min(1).max(50).optional(),
  /** Wait after a scale-in before another scale-in. @default '5m' */
  scaleInCooldown: duration({ minMs: 0, maxMs: 86_400_000 }).default('5m'),
  /** Wait after a scale-out before another scale-out. @default '1m' */
  scaleOutCooldown: duration({ minMs: 0, maxMs: 86_400_000 }).default('1m'),
  /**
   * FIFO queues only: message groups the producers use. A FIFO queue delivers one group to one worker at
   * a time, so more workers than groups sit idle.
   */
  messageGroups: z.number().int().min(1).max(100_000).optional(),
});

/**
 * Runs the job once per message on an SQS queue: the job's own queue (created for it), or an existing one.
 * @example trigger: { queue: { batchSize: 1, maxReceiveCount: 5 } }
 */
export const queueTriggerSchema = strictObject({
  /** An existing queue, by ARN or name. Omit it and berth creates the job's own queue and dead-letter queue. */
  existing: z
    .string()
    .refine((v) => QUEUE_ARN_RE.test(v) || QUEUE_NAME_RE.test(v), {
      error:
        'is neither an SQS queue ARN nor a queue name — use arn:aws:sqs:<region>:<account>:<name> or the bare name',
    })
    .optional(),
  /**
   * Messages handed to the launcher per invocation (1–10).
   * @default 1
   */
  batchSize: z
    .number()
    .int()
    .min(1, { error: 'is below 1 — use 1 to 10 messages per launcher invocation' })
    .max(10, { error: 'is above 10, the most SQS hands to one invocation here — use 1 to 10' })
    .default(1),
  /**
   * A FIFO queue (ordered per message group, exactly-once delivery).
   * @default false
   */
  fifo: z.boolean().default(false),
  /**
   * How long a received message stays hidden before it is delivered again.
   * @default '6m'
   */
  visibilityTimeout: duration({ minMs: 0, maxMs: 12 * 3_600_000 }).default('6m'),
  /**
   * Deliveries before a message moves to the dead-letter queue.
   * @default 5
   */
  maxReceiveCount: z.number().int().min(1).max(1000).default(5),
  /**
   * How long messages are kept.
   * @default '4d'
   */
  retention: duration({ minMs: 60_000, maxMs: 14 * 86_400_000 }).default('4d'),
  /**
   * `task`: one Fargate task per message (long, bursty work). `service`: an ECS service of long-running
   * workers that poll the queue and scale with its backlog (a steady stream of small messages).
   * @default 'task'
   */
  mode: z.enum(QUEUE_MODES, { error: `unknown mode — use 'task' or 'service'` }).default('task'),
  /** Worker fleet options for `mode: 'service'`. */
  service: serviceOptionsSchema.optional(),
});

/**
 * What starts the job. Any combination of an S3 trigger, schedules and a queue; omit it for manual invoke only.
 */
export const triggerSchema = strictObject({
  s3: z.union([s3TriggerSchema, z.array(s3TriggerSchema).min(1)]).optional(),
  schedule: z.union([scheduleTriggerSchema, z.array(scheduleTriggerSchema).min(1)]).optional(),
  queue: queueTriggerSchema.optional(),
});

export type S3TriggerInput = z.input<typeof s3TriggerSchema>;
export type S3Trigger = z.output<typeof s3TriggerSchema>;
export type ScheduleTriggerInput = z.input<typeof scheduleTriggerSchema>;
export type ScheduleTrigger = z.output<typeof scheduleTriggerSchema>;
export type QueueTriggerInput = z.input<typeof queueTriggerSchema>;
export type QueueTrigger = z.output<typeof queueTriggerSchema>;
export type TriggerInput = z.input<typeof triggerSchema>;
export type ServiceOptionsInput = z.input<typeof serviceOptionsSchema>;
export type ServiceOptions = z.output<typeof serviceOptionsSchema>;
export type ScalingWindow = z.output<typeof scalingWindowSchema>;
export type ScalingStep = z.output<typeof scalingStepSchema>;
