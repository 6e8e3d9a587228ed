/**
 * Everything that arrives at the launcher, one type guard + parser per shape, and one place (`toWork`)
 * that turns a record into what to do.
 *
 * On the shared launch queue (JSON bodies):
 * - `{"type":"s3","job":"<name>","event":<EventBridge "Object Created" event>}` — a per-job rule's input transformer
 * - `{"type":"schedule","job","scheduleId","scheduledTime","payload"}` — EventBridge Scheduler
 * - `{"type":"launch","job","runId","attempt"}` — berth's own retries and requeues
 * - `{"type":"invoke","job","payload","requestId","idempotencyKey?"}` — `berth invoke --stage`
 * - `{"type":"redrive","job","runId","requestId"}` — `berth redrive --stage`
 * - `{"type":"replay","job","runId","requestId"}` — Replay in `berth console --stage`: a new run with the
 *   run's trigger (its id derives from the run and the request id, so a repeated message is one replay)
 * From a queue job's own queue: any body; the queue name (from `eventSourceARN`) names the job.
 */
import type { SQSRecord } from 'aws-lambda';
import type { TriggerPayload } from '../../core/lifecycle/trigger.js';
import type { Json } from '../../core/model/common.js';
import type { LaunchMessage } from '../ports.js';
import type { BerthManifest } from './manifest.js';

export class MessageError extends Error {
  override name = 'MessageError';
}

/** The EventBridge S3 event, as far as berth reads it (kebab-case keys as S3 sends them). */
export interface S3ObjectCreatedEvent {
  'detail-type': string;
  source: string;
  time: string;
  detail: {
    bucket: { name: string };
    object: { key: string; size?: number; etag?: string; 'version-id'?: string; sequencer?: string };
    reason?: string;
  };
}

export interface S3Message {
  type: 's3';
  job: string;
  event: S3ObjectCreatedEvent;
}
export interface ScheduleMessage {
  type: 'schedule';
  job: string;
  scheduleId: string;
  scheduledTime: string;
  payload?: Json;
}
export interface InvokeMessage {
  type: 'invoke';
  job: string;
  payload?: Json;
  requestId: string;
  idempotencyKey?: string;
}
export interface RedriveMessage {
  type: 'redrive';
  job: string;
  runId: string;
  requestId: string;
}
export interface ReplayMessage {
  type: 'replay';
  job: string;
  runId: string;
  requestId: string;
}
export type LaunchPathMessage =
  | S3Message
  | ScheduleMessage
  | LaunchMessage
  | InvokeMessage
  | RedriveMessage
  | ReplayMessage;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (o: Obj, key: string, what: string): string => {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0)
    throw new MessageError(`${what}: "${key}" must be a non-empty string`);
  return v;
};

export function parseS3Message(m: Obj): S3Message {
  const job = str(m, 'job', 's3 message');
  const event = m.event;
  if (!isObj(event) || !isObj(event.detail))
    throw new MessageError('s3 message: "event" must be the EventBridge event');
  const detail = event.detail;
  if (!isObj(detail.bucket) || !isObj(detail.object))
    throw new MessageError('s3 message: event.detail needs bucket and object');
  str(detail.bucket, 'name', 's3 message: event.detail.bucket');
  str(detail.object, 'key', 's3 message: event.detail.object');
  return { type: 's3', job, event: event as unknown as S3ObjectCreatedEvent };
}

export function parseScheduleMessage(m: Obj): ScheduleMessage {
  const scheduledTime = str(m, 'scheduledTime', 'schedule message');
  if (Number.isNaN(Date.parse(scheduledTime)))
    throw new MessageError(`schedule message: scheduledTime "${scheduledTime}" is not a time`);
  return {
    type: 'schedule',
    job: str(m, 'job', 'schedule message'),
    scheduleId: str(m, 'scheduleId', 'schedule message'),
    scheduledTime,
    ...(m.payload !== undefined && m.payload !== null ? { payload: m.payload as Json } : {}),
  };
}

export function parseLaunchMessage(m: Obj): LaunchMessage {
  const attempt = m.attempt;
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1)
    throw new MessageError('launch message: "attempt" must be a positive integer');
  const throttles = m.throttles;
  return {
    type: 'launch',
    job: str(m, 'job', 'launch message'),
    runId: str(m, 'runId', 'launch message'),
    attempt,
    ...(typeof throttles === 'number' && Number.isInteger(throttles) && throttles > 0 ? { throttles } : {}),
  };
}

export function parseInvokeMessage(m: Obj): InvokeMessage {
  return {
    type: 'invoke',
    job: str(m, 'job', 'invoke message'),
    requestId: str(m, 'requestId', 'invoke message'),
    ...(m.payload !== undefined ? { payload: m.payload as Json } : {}),
    ...(typeof m.idempotencyKey === 'string' && m.idempotencyKey ? { idempotencyKey: m.idempotencyKey } : {}),
  };
}

export function parseRedriveMessage(m: Obj): RedriveMessage {
  return {
    type: 'redrive',
    job: str(m, 'job', 'redrive message'),
    runId: str(m, 'runId', 'redrive message'),
    requestId: str(m, 'requestId', 'redrive message'),
  };
}

export function parseReplayMessage(m: Obj): ReplayMessage {
  return {
    type: 'replay',
    job: str(m, 'job', 'replay message'),
    runId: str(m, 'runId', 'replay message'),
    requestId: str(m, 'requestId', 'replay message'),
  };
}

const PARSERS: Record<LaunchPathMessage['type'], (m: Obj) => LaunchPathMessage> = {
  s3: parseS3Message,
  schedule: parseScheduleMessage,
  launch: parseLaunchMessage,
  invoke: parseInvokeMessage,
  redrive: parseRedriveMessage,
  replay: parseReplayMessage,
};

/** Parses a launch-queue body; throws `MessageError` naming what is wrong. */
export function parseLaunchPathBody(body: string): LaunchPathMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new MessageError(`launch queue message is not JSON: ${body.slice(0, 200)}`);
  }
  if (!isObj(value)) throw new MessageError('launch queue message must be a JSON object');
  const parser = PARSERS[value.type as LaunchPathMessage['type']];
  if (!parser)
    throw new MessageError(
      `unknown launch message type ${JSON.stringify(value.type)} — expected ${Object.keys(PARSERS).join(', ')}`,
    );
  return parser(value);
}

export function s3Trigger(event: S3ObjectCreatedEvent): TriggerPayload {
  const o = event.detail.object;
  return {
    kind: 's3',
    bucket: event.detail.bucket.name,
    key: o.key,
    size: o.size ?? 0,
    ...(o.etag ? { etag: o.etag } : {}),
    ...(o['version-id'] ? { versionId: o['version-id'] } : {}),
    ...(o.sequencer ? { sequencer: o.sequencer } : {}),
    time: event.time,
  };
}

export function queueNameFromArn(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}

export function queueTrigger(record: SQSRecord): TriggerPayload {
  let json: Json | undefined;
  try {
    json = JSON.parse(record.body) as Json;
  } catch {
    json = undefined;
  }
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount);
  return {
    kind: 'queue',
    queue: queueNameFromArn(record.eventSourceARN),
    messageId: record.messageId,
    body: record.body,
    ...(json !== undefined ? { json } : {}),
    ...(Number.isFinite(receiveCount) ? { receiveCount } : {}),
    ...(record.attributes?.MessageGroupId ? { messageGroupId: record.attributes.MessageGroupId } : {}),
  };
}

/** The manual trigger of an invoke message (`berth invoke --stage` derives the run id from it too). */
export function invokeTrigger(message: InvokeMessage): TriggerPayload {
  return {
    kind: 'manual',
    requestId: message.requestId,
    ...(message.payload !== undefined ? { payload: message.payload } : {}),
    ...(message.idempotencyKey ? { idempotencyKey: message.idempotencyKey } : {}),
  };
}

/** What one record asks the launcher to do. */
export type Work =
  | { kind: 'accept'; job: string; trigger: TriggerPayload; idempotencyKey?: string }
  | { kind: 'launch'; job: string; runId: string; attempt: number; throttles?: number }
  | { kind: 'redrive' | 'replay'; job: string; runId: string; requestId: string };

/** The one dispatch: an SQS record (job queue or launch queue) → work. */
export function toWork(record: SQSRecord, manifest: Pick<BerthManifest, 'queues'>): Work {
  const queueName = queueNameFromArn(record.eventSourceARN ?? '');
  const queueJob = manifest.queues[queueName];
  if (queueJob) return { kind: 'accept', job: queueJob, trigger: queueTrigger(record) };
  const message = parseLaunchPathBody(record.body);
  switch (message.type) {
    case 's3':
      return { kind: 'accept', job: message.job, trigger: s3Trigger(message.event) };
    case 'schedule':
      return {
        kind: 'accept',
        job: message.job,
        trigger: {
          kind: 'schedule',
          scheduleId: message.scheduleId,
          scheduledTime: new Date(message.scheduledTime).toISOString(),
          ...(message.payload !== undefined ? { payload: message.payload } : {}),
        },
      };
    case 'invoke':
      return { kind: 'accept', job: message.job, trigger: invokeTrigger(message) };
    case 'launch':
      return {
        kind: 'launch',
        job: message.job,
        runId: message.runId,
        attempt: message.attempt,
        ...(message.throttles ? { throttles: message.throttles } : {}),
      };
    case 'redrive':
    case 'replay':
      return { kind: message.type, job: message.job, runId: message.runId, requestId: message.requestId };
    default: {
      const never: never = message;
      throw new MessageError(`unhandled message ${JSON.stringify(never)}`);
    }
  }
}
