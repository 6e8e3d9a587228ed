import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../../src/core/lifecycle/idempotency.js';
import {
  MessageError,
  parseLaunchPathBody,
  type S3ObjectCreatedEvent,
  s3Trigger,
  toWork,
} from '../../../src/runtime/aws/messages.js';
import { fixture, sqsRecord } from './support.js';

const manifest = { queues: { 'berth-demo-order-worker': 'order-worker' } };

describe('launch path messages', () => {
  it('turns the EventBridge S3 Object Created event into an s3 trigger', () => {
    const event = fixture('s3/object-created.json');
    const work = toWork(sqsRecord({ type: 's3', job: 'thumbnail', event }) as never, manifest);
    expect(work).toEqual({
      kind: 'accept',
      job: 'thumbnail',
      trigger: {
        kind: 's3',
        bucket: 'amzn-s3-demo-bucket1',
        key: 'example-key',
        size: 5,
        etag: 'b1946ac92492d2347c6235b4d2611184',
        versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
        sequencer: '617f08299329d189',
        time: '2021-11-12T00:00:00Z',
      },
    });
  });

  it('keys a re-upload of the same key apart but the same event together', () => {
    const event = fixture<S3ObjectCreatedEvent>('s3/object-created.json');
    const a = idempotencyKey('thumbnail', s3Trigger(event));
    const again = idempotencyKey('thumbnail', s3Trigger(structuredClone(event)));
    event.detail.object['version-id'] = 'other-version';
    expect(again).toBe(a);
    expect(idempotencyKey('thumbnail', s3Trigger(event))).not.toBe(a);
  });

  it('reads the scheduler input with its scheduled time as the occurrence', () => {
    const body = fixture('scheduler/launch-input.json');
    const work = toWork(sqsRecord(body) as never, manifest);
    expect(work).toEqual({
      kind: 'accept',
      job: 'nightly-report',
      trigger: {
        kind: 'schedule',
        scheduleId: 'schedule-0',
        scheduledTime: '2026-03-01T17:00:00.000Z',
        payload: { report: 'daily' },
      },
    });
  });

  it('maps a record from a queue job’s own queue to that job by queue name', () => {
    const batch = fixture<{ Records: SQSRecord[] }>('sqs/job-queue-batch.json');
    const work = toWork(batch.Records[0]!, manifest);
    expect(work).toMatchObject({
      kind: 'accept',
      job: 'order-worker',
      trigger: {
        kind: 'queue',
        queue: 'berth-demo-order-worker',
        messageId: 'c80e8021-a70a-42c7-a470-796e1186f753',
        body: '{"orderId":"o-1001"}',
        json: { orderId: 'o-1001' },
        receiveCount: 1,
      },
    });
  });

  it('parses launch, invoke and redrive messages', () => {
    expect(
      toWork(sqsRecord({ type: 'launch', job: 'j', runId: 'r1', attempt: 2 }) as never, manifest),
    ).toEqual({
      kind: 'launch',
      job: 'j',
      runId: 'r1',
      attempt: 2,
    });
    expect(
      toWork(
        sqsRecord({
          type: 'invoke',
          job: 'j',
          payload: { a: 1 },
          requestId: 'q1',
          idempotencyKey: 'k',
        }) as never,
        manifest,
      ),
    ).toEqual({
      kind: 'accept',
      job: 'j',
      trigger: { kind: 'manual', requestId: 'q1', payload: { a: 1 }, idempotencyKey: 'k' },
    });
    expect(
      parseLaunchPathBody(JSON.stringify({ type: 'redrive', job: 'j', runId: 'r1', requestId: 'q' })),
    ).toEqual({
      type: 'redrive',
      job: 'j',
      runId: 'r1',
      requestId: 'q',
    });
    expect(
      parseLaunchPathBody(JSON.stringify({ type: 'replay', job: 'j', runId: 'r1', requestId: 'q2' })),
    ).toEqual({ type: 'replay', job: 'j', runId: 'r1', requestId: 'q2' });
    expect(() => parseLaunchPathBody(JSON.stringify({ type: 'replay', job: 'j', requestId: 'q' }))).toThrow(
      /runId/,
    );
  });

  it('rejects bodies it cannot act on, naming what is wrong', () => {
    expect(() => parseLaunchPathBody('not json')).toThrow(MessageError);
    expect(() => parseLaunchPathBody('{"type":"nope"}')).toThrow(/unknown launch message type "nope"/);
    expect(() => parseLaunchPathBody('{"type":"launch","job":"j","runId":"r","attempt":0}')).toThrow(
      /attempt/,
    );
    expect(() => parseLaunchPathBody('{"type":"s3","job":"j","event":{}}')).toThrow(/EventBridge event/);
    expect(() =>
      parseLaunchPathBody('{"type":"schedule","job":"j","scheduleId":"s","scheduledTime":"soon"}'),
    ).toThrow(/not a time/);
  });
});
