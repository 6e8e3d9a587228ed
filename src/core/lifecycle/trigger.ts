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
