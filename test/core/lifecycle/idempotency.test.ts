import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clientTokenFor,
  idempotencyKey,
  runIdFor,
  runIdFromStartedBy,
  startedByFor,
} from '../../../src/core/lifecycle/idempotency.js';
import type { TriggerPayload } from '../../../src/core/lifecycle/trigger.js';

const s3: TriggerPayload = {
  kind: 's3',
  bucket: 'uploads',
  key: 'images/cat.jpg',
  size: 1024,
  etag: 'd41d8cd98f00b204e9800998ecf8427e',
  sequencer: '0062E99A88DC407460',
  time: '2026-03-01T10:00:00Z',
};
const queue: TriggerPayload = {
  kind: 'queue',
  queue: 'order-worker',
  messageId: '059f36b4-87a3-44ab-83d2-661975830a7d',
  body: '{"order":1}',
};
const schedule: TriggerPayload = {
  kind: 'schedule',
  scheduleId: 'schedule-0',
  scheduledTime: '2026-03-01T17:00:00Z',
};
const manual: TriggerPayload = { kind: 'manual', requestId: 'req-1' };

describe('idempotencyKey', () => {
  it('is built from what identifies each trigger', () => {
    expect(idempotencyKey('thumbnail', s3)).toBe('thumbnail#s3#uploads/images/cat.jpg#0062E99A88DC407460');
    expect(idempotencyKey('thumbnail', { ...s3, versionId: 'v2' })).toBe(
      'thumbnail#s3#uploads/images/cat.jpg#v2',
    );
    expect(idempotencyKey('order-worker', queue)).toBe(
      'order-worker#sqs#order-worker#059f36b4-87a3-44ab-83d2-661975830a7d',
    );
    expect(idempotencyKey('nightly-report', schedule)).toBe(
      'nightly-report#schedule#schedule-0#2026-03-01T17:00:00Z',
    );
    expect(idempotencyKey('j', manual)).toBe('j#manual#req-1');
    expect(idempotencyKey('j', { ...manual, idempotencyKey: 'order-42' })).toBe('j#manual#order-42');
  });

  it('is the same for a redelivered event (S3 and SQS deliver at least once)', () => {
    expect(idempotencyKey('thumbnail', { ...s3, time: '2026-03-01T10:00:05Z' })).toBe(
      idempotencyKey('thumbnail', s3),
    );
    expect(
      idempotencyKey('order-worker', { ...queue, kind: 'queue', receiveCount: 2 } as TriggerPayload),
    ).toBe(idempotencyKey('order-worker', queue));
  });

  it('differs per trigger: a re-upload, another message, another fire time, another job', () => {
    const keys = [
      idempotencyKey('thumbnail', s3),
      idempotencyKey('thumbnail', { ...s3, sequencer: '0062E99A88DC407461' }),
      idempotencyKey('thumbnail', { ...s3, key: 'images/dog.jpg' }),
      idempotencyKey('other', s3),
      idempotencyKey('order-worker', queue),
      idempotencyKey('order-worker', { ...queue, messageId: 'another' } as TriggerPayload),
      idempotencyKey('nightly-report', schedule),
      idempotencyKey('nightly-report', {
        ...schedule,
        scheduledTime: '2026-03-02T17:00:00Z',
      } as TriggerPayload),
      idempotencyKey('j', manual),
      idempotencyKey('j', { ...manual, requestId: 'req-2' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('runIdFor and the ECS correlation fields', () => {
  it('is stable: the same key gives the same run id', () => {
    expect(runIdFor('thumbnail#s3#uploads/a.jpg#1')).toBe(runIdFor('thumbnail#s3#uploads/a.jpg#1'));
    expect(runIdFor('a')).toMatch(/^r[0-9a-z]{20}$/);
  });

  it('distinct keys give distinct run ids (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { minLength: 2, maxLength: 50 }), (keys) => {
        expect(new Set(keys.map(runIdFor)).size).toBe(keys.length);
      }),
    );
  });

  it('startedBy round-trips and fits ECS: ≤ 128 characters of [A-Za-z0-9-/_] (property)', () => {
    fc.assert(
      fc.property(fc.string(), (key) => {
        const runId = runIdFor(key);
        const startedBy = startedByFor(runId);
        expect(startedBy.length).toBeLessThanOrEqual(128);
        expect(startedBy).toMatch(/^[A-Za-z0-9/_-]+$/);
        expect(runIdFromStartedBy(startedBy)).toBe(runId);
      }),
    );
  });

  it('clientToken is ≤ 64 ASCII 33–126 characters and differs per attempt (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 100 }), (key, attempt) => {
        const token = clientTokenFor(runIdFor(key), attempt);
        expect(token.length).toBeLessThanOrEqual(64);
        expect([...token].every((c) => c.charCodeAt(0) >= 33 && c.charCodeAt(0) <= 126)).toBe(true);
        expect(token).not.toBe(clientTokenFor(runIdFor(key), attempt + 1));
      }),
    );
  });

  it("ignores tasks that are not berth's", () => {
    expect(runIdFromStartedBy(undefined)).toBeUndefined();
    expect(runIdFromStartedBy(null)).toBeUndefined();
    expect(runIdFromStartedBy('ecs-svc/1234567890')).toBeUndefined();
    expect(runIdFromStartedBy('berth/not-a-run-id')).toBeUndefined();
    expect(runIdFromStartedBy('events-rule/nightly')).toBeUndefined();
  });
});
