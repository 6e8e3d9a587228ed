import type { Json } from '../model/common.js';

/**
 * The typed payload a run receives (as `BERTH_TRIGGER`, JSON). One shape per trigger kind, the same on AWS
 * and locally.
 */
export type TriggerPayload =
  | {
      kind: 's3';
      bucket: string;
      key: string;
      size: number;
      etag?: string;
      versionId?: string;
      sequencer?: string;
      /** EventBridge event time. */
      time: string;
    }
  | {
      kind: 'schedule';
      /** Schedule id within the job (`schedule-0`). */
      scheduleId: string;
      /** The time the scheduler meant to fire (ISO-8601). */
      scheduledTime: string;
      payload?: Json;
    }
  | {
      kind: 'queue';
      queue: string;
      messageId: string;
      body: string;
      /** `body` parsed as JSON, when it is JSON. */
      json?: Json;
      receiveCount?: number;
      messageGroupId?: string;
      /**
       * Set only on the run berth records for a stopped service-mode worker (`mode: 'service'`): the ECS
       * service whose worker it was. Such a run stands for one worker task, not one message (`messageId` and
       * `body` are empty).
       */
      worker?: string;
    }
  | {
      kind: 'manual';
      payload?: Json;
      /** Caller-chosen key that makes repeated invokes launch once. */
      idempotencyKey?: string;
      requestId: string;
    };

/**
 * A trigger as the run record keeps it. Two rules keep every run record small enough for DynamoDB's
 * 400 KB item limit, the same on AWS and under `berth dev`:
 * - a queue body is kept once: `json` (the parsed body) is dropped and derived again for the task;
 * - a trigger whose stored form is over `MAX_STORED_TRIGGER_BYTES` is written to the payload store once,
 *   when it is accepted, and the record keeps a stub: its identifying fields and `ref`, where the task reads
 *   the full trigger (`BERTH_TRIGGER_REF`).
 */
export type StoredTrigger = TriggerPayload & {
  /** Where the full trigger is (`s3://…` on AWS, a file under `berth dev`); large fields are left out. */
  ref?: string;
};

/** UTF-8 bytes of a stored trigger's JSON above which it goes to the payload store (DynamoDB items ≤ 400 KB). */
export const MAX_STORED_TRIGGER_BYTES = 64 * 1024;

/** The stored form: a queue trigger without `json` (the body is kept once). */
export function compactTrigger(t: TriggerPayload): TriggerPayload {
  if (t.kind !== 'queue' || t.json === undefined) return t;
  const { json: _json, ...rest } = t;
  return rest;
}

/** What the task reads: a queue trigger gets `json` back when its body is JSON. */
export function taskTrigger(t: TriggerPayload): TriggerPayload {
  if (t.kind !== 'queue' || t.json !== undefined || t.worker !== undefined) return t;
  try {
    return { ...t, json: JSON.parse(t.body) as Json };
  } catch {
    return t;
  }
}

/** The stub a run record keeps for a trigger stored elsewhere: identifying fields and `ref`. */
export function triggerStub(t: TriggerPayload, ref: string): StoredTrigger {
  switch (t.kind) {
    case 'queue': {
      const { json: _json, body: _body, ...rest } = t;
      return { ...rest, body: '', ref };
    }
    case 'schedule':
    case 'manual': {
      const { payload: _payload, ...rest } = t;
      return { ...rest, ref };
    }
    default:
      return { ...t, ref };
  }
}

/**
 * How a trigger is kept: inline (its compact form) or spilled (the full task form goes to the payload store,
 * the record keeps a stub). Pure; both runtimes call it through `acceptTrigger`.
 */
export function planTriggerStorage(
  t: TriggerPayload,
  maxBytes = MAX_STORED_TRIGGER_BYTES,
): { kind: 'inline'; stored: TriggerPayload } | { kind: 'spill'; json: string; bytes: number } {
  const stored = compactTrigger(t);
  const bytes = new TextEncoder().encode(JSON.stringify(stored)).length;
  if (bytes <= maxBytes) return { kind: 'inline', stored };
  return { kind: 'spill', json: JSON.stringify(taskTrigger(t)), bytes };
}

/** The reference of a trigger stored out of the run record, if it was. */
export function triggerRef(t: TriggerPayload): string | undefined {
  const ref = (t as StoredTrigger).ref;
  return typeof ref === 'string' && ref !== '' ? ref : undefined;
}

/** Short text for people and for the `trigger` field of outcome events. */
export function summarizeTrigger(t: TriggerPayload): string {
  switch (t.kind) {
    case 's3':
      return `s3://${t.bucket}/${t.key}`;
    case 'schedule':
      return `schedule ${t.scheduleId} at ${t.scheduledTime}`;
    case 'queue':
      return t.worker ? `queue ${t.queue} worker of ${t.worker}` : `queue ${t.queue} message ${t.messageId}`;
    case 'manual':
      return 'manual invoke';
    default: {
      const never: never = t;
      return String(never);
    }
  }
}
