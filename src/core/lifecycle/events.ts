import type { FinalRunStatus, OutcomeClass, RunStatus } from './states.js';

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

/**
 * The `detail` of every outcome event. Stable: fields are only ever added. A plain type, so the Lambdas that
 * publish it carry no schema library; its zod schema and JSON Schema live in `eventSchema.ts` (checked
 * against this type at compile time).
 */
export interface OutcomeDetail {
  schemaVersion: 1;
  job: string;
  runId: string;
  /** 1-based. */
  attempt: number;
  maxAttempts: number;
  status: RunStatus;
  outcome: OutcomeClass | null;
  exitCode: number | null;
  stopCode: string | null;
  reason: string | null;
  /** Why the run was retried or ended (the retry decision). */
  decision: string | null;
  createdAt: string;
  startedAt: string | null;
  stoppedAt: string | null;
  durationMs: number | null;
  costUsd: number | null;
  /** ECS task ARN on AWS; `local:<pid>` locally. */
  taskArn: string | null;
  trigger: { kind: 's3' | 'schedule' | 'queue' | 'manual'; summary: string };
  /** When the next attempt starts (Job Run Retrying only). */
  nextAttemptAt: string | null;
  mode: 'task' | 'service';
  environment: 'aws' | 'local';
}

/** An outcome event as EventBridge delivers it. */
export interface OutcomeEvent {
  source: typeof EVENT_SOURCE;
  'detail-type': EventType;
  detail: OutcomeDetail;
  time: string;
  id?: string;
}
