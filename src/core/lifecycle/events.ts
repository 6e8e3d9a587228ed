import { z } from 'zod';
import { type FinalRunStatus, OUTCOME_CLASSES, RUN_STATUSES } from './states.js';

/** EventBridge `source` of every outcome event. */
export const EVENT_SOURCE = 'berth';

export const EVENT_TYPES = {
  started: 'Job Run Started',
  succeeded: 'Job Run Succeeded',
  failed: 'Job Run Failed',
  retrying: 'Job Run Retrying',
  timedOut: 'Job Run Timed Out',
  cancelled: 'Job Run Cancelled',
} as const;
export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];
export const ALL_EVENT_TYPES = Object.values(EVENT_TYPES) as EventType[];
/** Exactly one of these is published per run. */
export const FINAL_EVENT_TYPES: readonly EventType[] = [
  EVENT_TYPES.succeeded,
  EVENT_TYPES.failed,
  EVENT_TYPES.timedOut,
  EVENT_TYPES.cancelled,
];

export function finalEventType(status: FinalRunStatus): EventType {
  switch (status) {
    case 'succeeded':
      return EVENT_TYPES.succeeded;
    case 'failed':
      return EVENT_TYPES.failed;
    case 'timed_out':
      return EVENT_TYPES.timedOut;
    case 'cancelled':
      return EVENT_TYPES.cancelled;
    default: {
      const never: never = status;
      throw new Error(`unknown status ${String(never)}`);
    }
  }
}

/** The `detail` of every outcome event. Stable: fields are only ever added. */
export const outcomeDetailSchema = z
  .object({
    schemaVersion: z.literal(1),
    job: z.string(),
    runId: z.string(),
    attempt: z.number().int().min(1),
    maxAttempts: z.number().int().min(1),
    status: z.enum(RUN_STATUSES),
    outcome: z.enum(OUTCOME_CLASSES).nullable(),
    exitCode: z.number().int().nullable(),
    stopCode: z.string().nullable(),
    reason: z.string().nullable(),
    /** Why the run was retried or ended (the retry decision). */
    decision: z.string().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    stoppedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    costUsd: z.number().nullable(),
    /** ECS task ARN on AWS; `local:<pid>` locally. */
    taskArn: z.string().nullable(),
    trigger: z.object({ kind: z.enum(['s3', 'schedule', 'queue', 'manual']), summary: z.string() }),
    /** When the next attempt starts (Job Run Retrying only). */
    nextAttemptAt: z.string().nullable(),
    mode: z.enum(['task', 'service']),
    environment: z.enum(['aws', 'local']),
  })
  .meta({ title: 'berth outcome event detail' });

export type OutcomeDetail = z.infer<typeof outcomeDetailSchema>;

/** An outcome event as EventBridge delivers it. */
export interface OutcomeEvent {
  source: typeof EVENT_SOURCE;
  'detail-type': EventType;
  detail: OutcomeDetail;
  time: string;
  id?: string;
}

/**
 * JSON Schema (draft 2020-12) of the event detail, published in docs/events.schema.json
 * (`node --import tsx scripts/gen-schema.ts`). Written in zod's `input` mode so that objects stay open:
 * fields are only ever added, and a subscriber validating with today's schema must accept tomorrow's events.
 */
export function outcomeDetailJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(outcomeDetailSchema, { io: 'input' }) as Record<string, unknown>),
    description:
      'The `detail` of every berth outcome event (source `berth`, detail-types Job Run Started, Succeeded, Failed, Retrying, Timed Out, Cancelled). Fields are only ever added.',
  };
}
