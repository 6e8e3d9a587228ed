/**
 * The zod schema and JSON Schema of the outcome event detail, for tools and subscribers that validate events
 * (scripts/gen-schema.ts writes docs/events.schema.json from it). Kept apart from `events.ts` so the Lambdas,
 * which only publish events, never load zod.
 */
import { z } from 'zod';
import type { OutcomeDetail } from './events.js';
import { OUTCOME_CLASSES, RUN_STATUSES } from './states.js';

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

// The schema and the plain `OutcomeDetail` type must describe the same object: this fails to compile when
// either gains, loses or changes a field without the other.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape: Same<z.infer<typeof outcomeDetailSchema>, OutcomeDetail> = true;
void sameShape;

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
