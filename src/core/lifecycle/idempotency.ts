import { createHash } from 'node:crypto';
import type { TriggerPayload } from './trigger.js';

/**
 * The key that makes a repeated trigger launch once. Both S3 and SQS deliver at least once, so every
 * launch path writes the run under this key with a conditional put.
 * - S3: bucket + key + (version id, else sequencer): a re-upload of the same key is a new event.
 * - SQS: queue + message id (redeliveries keep the id).
 * - Schedule: schedule id + scheduled time.
 * - Manual: the caller's idempotency key, else the request id (every invoke is a new run).
 */
export function idempotencyKey(job: string, trigger: TriggerPayload): string {
  switch (trigger.kind) {
    case 's3':
      return `${job}#s3#${trigger.bucket}/${trigger.key}#${trigger.versionId ?? trigger.sequencer ?? trigger.etag ?? trigger.time}`;
    case 'queue':
      return `${job}#sqs#${trigger.queue}#${trigger.messageId}`;
    case 'schedule':
      return `${job}#schedule#${trigger.scheduleId}#${trigger.scheduledTime}`;
    case 'manual':
      return `${job}#manual#${trigger.idempotencyKey ?? trigger.requestId}`;
    default: {
      const never: never = trigger;
      throw new Error(`unknown trigger ${JSON.stringify(never)}`);
    }
  }
}

/**
 * The key of the redrive of a dead-lettered run: derived from the run alone, so however many redrive requests
 * arrive for it, one replay exists (the run table drops the others as duplicates).
 */
export function redriveIdempotencyKey(job: string, runId: string): string {
  return `${job}#redrive#${runId}`;
}

/** The key of a replay (`berth replay`) of `runId`: every request is a new run, never a duplicate of the original. */
export function replayIdempotencyKey(job: string, runId: string, requestId: string): string {
  return `${job}#replay#${runId}#${requestId}`;
}

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Derives the run id from the idempotency key, so a duplicate trigger maps to the same run id and every
 * store can drop it with one conditional write. 20 base32 characters (100 bits) after `r`.
 * Allowed in ECS `startedBy` (letters, digits, `-`, `_`, `/`).
 */
export function runIdFor(key: string): string {
  const digest = createHash('sha256').update(key).digest();
  let out = 'r';
  for (let i = 0; i < 20; i++) out += ALPHABET[(digest[i] ?? 0) % 32];
  return out;
}

/** `startedBy` for ECS RunTask: `berth/<runId>` (colons are not allowed there). */
export function startedByFor(runId: string): string {
  return `berth/${runId}`;
}

/** `clientToken` for ECS RunTask: the same run and attempt never start a second task. Max 64 characters. */
export function clientTokenFor(runId: string, attempt: number): string {
  return `${runId}-${attempt}`;
}

/** Parses `berth/<runId>` back; undefined for tasks that are not berth's. */
export function runIdFromStartedBy(startedBy: string | undefined | null): string | undefined {
  if (!startedBy?.startsWith('berth/')) return undefined;
  const id = startedBy.slice('berth/'.length);
  return /^r[0-9a-z]{20}$/.test(id) ? id : undefined;
}
