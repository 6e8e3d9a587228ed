import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDevDb } from '../../../src/runtime/local/db.js';
import { DEDUP_WINDOW_MS, SqliteQueues } from '../../../src/runtime/local/queue.js';
import { REPO } from './harness.js';

let dir: string;
let db: Db;
let q: SqliteQueues;
beforeEach(() => {
  dir = join(REPO, '.tmp', `fifo-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  db = openDevDb(join(dir, 'dev.db'));
  q = new SqliteQueues(db);
});
afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const T = 1_800_000_000_000;
const fifo = (max: number, now: number) => ({ max, visibilityMs: 30_000, fifo: true, now });

describe('local FIFO queues (SQS FIFO semantics)', () => {
  it('delivers a message group in send order, one batch in flight at a time', () => {
    for (const n of [1, 2, 3]) q.send('job:orders', `a${n}`, { groupId: 'A', now: T });
    const first = q.receive('job:orders', fifo(1, T));
    expect(first.map((m) => m.body)).toEqual(['a1']);
    // a1 in flight: the group is blocked even though a2 and a3 are visible.
    expect(q.receive('job:orders', fifo(10, T + 1))).toEqual([]);
    expect(q.delete(first[0]?.receiptHandle as string)).toBe(true);
    const second = q.receive('job:orders', fifo(10, T + 2));
    expect(second.map((m) => m.body)).toEqual(['a2', 'a3']); // a batch keeps the order
    expect(q.receive('job:orders', fifo(10, T + 3))).toEqual([]);
  });

  it('redelivers an expired in-flight message before the rest of its group', () => {
    q.send('job:orders', 'a1', { groupId: 'A', now: T });
    q.send('job:orders', 'a2', { groupId: 'A', now: T + 10 });
    expect(q.receive('job:orders', fifo(1, T + 20)).map((m) => m.body)).toEqual(['a1']);
    // The visibility timeout passes without a delete: a1 again, not a2.
    const again = q.receive('job:orders', fifo(1, T + 40_000));
    expect(again.map((m) => [m.body, m.receiveCount])).toEqual([['a1', 2]]);
  });

  it('lets other groups proceed while one group is blocked', () => {
    q.send('job:orders', 'a1', { groupId: 'A', now: T });
    q.send('job:orders', 'a2', { groupId: 'A', now: T });
    q.send('job:orders', 'b1', { groupId: 'B', now: T });
    q.send('job:orders', 'b2', { groupId: 'B', now: T });
    expect(q.receive('job:orders', fifo(1, T)).map((m) => m.body)).toEqual(['a1']);
    expect(q.receive('job:orders', fifo(1, T)).map((m) => m.body)).toEqual(['b1']);
    expect(q.receive('job:orders', fifo(10, T))).toEqual([]);
  });

  it('moves a group head past maxReceiveCount to the dead-letter queue, then delivers the next', () => {
    q.send('job:orders', 'a1', { groupId: 'A', now: T });
    q.send('job:orders', 'a2', { groupId: 'A', now: T });
    const opts = (now: number) => ({ ...fifo(1, now), maxReceiveCount: 1 });
    expect(q.receive('job:orders', opts(T)).map((m) => m.body)).toEqual(['a1']);
    expect(q.receive('job:orders', opts(T + 40_000)).map((m) => m.body)).toEqual(['a2']);
    expect(q.deadLetters('job:orders').map((m) => m.body)).toEqual(['a1']);
  });

  it('a standard queue (fifo unset) ignores groups', () => {
    q.send('job:std', 'a1', { groupId: 'A', now: T });
    q.send('job:std', 'a2', { groupId: 'A', now: T });
    expect(q.receive('job:std', { max: 1, visibilityMs: 30_000, now: T }).map((m) => m.body)).toEqual(['a1']);
    expect(q.receive('job:std', { max: 1, visibilityMs: 30_000, now: T }).map((m) => m.body)).toEqual(['a2']);
  });

  it('drops a send whose deduplication id was seen within 5 minutes, per queue', () => {
    const first = q.send('job:orders', 'x', { groupId: 'A', deduplicationId: 'order-1', now: T });
    const dup = q.send('job:orders', 'x again', {
      groupId: 'A',
      deduplicationId: 'order-1',
      now: T + 60_000,
    });
    expect(dup.messageId).toBe(first.messageId); // accepted, answered with the first message's id
    q.send('job:other', 'y', { groupId: 'A', deduplicationId: 'order-1', now: T }); // another queue
    expect(q.stats('job:orders', T + 60_000).visible).toBe(1);
    expect(q.stats('job:other', T).visible).toBe(1);

    // After the 5-minute interval the same id is a new message.
    const later = q.send('job:orders', 'x', {
      groupId: 'A',
      deduplicationId: 'order-1',
      now: T + DEDUP_WINDOW_MS,
    });
    expect(later.messageId).not.toBe(first.messageId);
    expect(q.stats('job:orders', T + DEDUP_WINDOW_MS).visible).toBe(2);
  });
});
