/**
 * A backlog behind a concurrency cap stays linear: the statements on the hot path use indexes, and a freed
 * slot wakes one waiting launch, not all of them.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Db, openDevDb } from '../../../src/runtime/local/db.js';
import { LocalEngine } from '../../../src/runtime/local/engine.js';
import { LAUNCH_QUEUE, type QueueMessage, SqliteQueues } from '../../../src/runtime/local/queue.js';
import { SlotWaiters } from '../../../src/runtime/local/slots.js';
import { SqliteRunStore } from '../../../src/runtime/local/store.js';
import { cleanup, makeProject, REPO, waitFor } from './harness.js';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = join(REPO, '.tmp', `backlog-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  db = openDevDb(join(dir, 'dev.db'));
});
afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every SQL text `fn` prepares on `db`. */
function preparedBy(fn: () => void): string[] {
  const seen = new Set<string>();
  const prepare = db.prepare;
  db.prepare = ((sql: string) => {
    seen.add(sql);
    return prepare.call(db, sql);
  }) as Db['prepare'];
  try {
    fn();
  } finally {
    db.prepare = prepare;
  }
  return [...seen];
}

describe('queue and slot statements', () => {
  it('find messages by receipt, queue and slots through an index, never by scanning the table', async () => {
    const queues = new SqliteQueues(db);
    const store = new SqliteRunStore(db);
    for (let i = 0; i < 50; i++) queues.send('job:a', `{"i":${i}}`);
    const sqls = preparedBy(() => {
      const [m1, m2] = queues.receive('job:a', { max: 2, visibilityMs: 1000 });
      queues.changeVisibility((m1 as QueueMessage).receiptHandle, 0);
      queues.delete((m2 as QueueMessage).receiptHandle);
      queues.sendReceived(LAUNCH_QUEUE, '{}', 1000);
      void store.acquireSlot('a', 'r1', 2);
      void store.releaseSlot('a', 'r1');
    });
    expect(sqls.some((s) => s.includes('WHERE receipt = ?'))).toBe(true);
    for (const sql of sqls) {
      if (!/^\s*(SELECT|UPDATE|DELETE)/i.test(sql)) continue;
      const params = (sql.match(/\?/g) ?? []).map(() => 1);
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
        .map((r) => r.detail)
        .join('; ');
      expect(plan, sql).not.toMatch(/SCAN (messages|slots)\b(?! USING)/);
    }
  });
});

function msg(id: string, receipt = `r-${id}`): QueueMessage {
  return {
    messageId: id,
    body: '{}',
    attributes: null,
    groupId: null,
    receiptHandle: receipt,
    receiveCount: 1,
    sentAt: 0,
    firstReceivedAt: 0,
  };
}

describe('SlotWaiters', () => {
  it('is one FIFO per job: take(n) gives the n oldest, putBack returns one to the front', () => {
    const w = new SlotWaiters();
    for (const id of ['a1', 'a2', 'a3', 'a4']) w.add('a', msg(id));
    w.add('b', msg('b1'));
    expect(w.take('a', 2).map((m) => m.messageId)).toEqual(['a1', 'a2']);
    w.putBack('a', msg('a2'));
    expect(w.size('a')).toBe(3);
    expect(w.take('a', 1).map((m) => m.messageId)).toEqual(['a2']);
    expect(w.take('b', 5).map((m) => m.messageId)).toEqual(['b1']);
    expect(w.jobs()).toEqual(['a']);
  });

  it('keeps a launch seen again in its place, with its new receipt', () => {
    const w = new SlotWaiters();
    w.add('a', msg('x'));
    w.add('a', msg('y'));
    w.add('a', msg('x', 'second-receipt'));
    const taken = w.take('a', 5);
    expect(taken.map((m) => [m.messageId, m.receiptHandle])).toEqual([
      ['x', 'second-receipt'],
      ['y', 'r-y'],
    ]);
    w.add('a', msg('z'));
    w.remove('a', 'z');
    expect(w.take('a', 5)).toEqual([]);
  });
});

describe('a capped job with a backlog (in-process engine)', () => {
  it('runs every message and tries each launch about twice, not once per freed slot', async () => {
    const project = makeProject('backlog', {
      capped: `{ name: 'capped', maxConcurrency: 2, task: { image: 'x', local: { command: ['true'] } } }`,
    });
    const acquire = vi.spyOn(SqliteRunStore.prototype, 'acquireSlot');
    const engine = await LocalEngine.start({ root: project, port: 0, driver: 'process', log: () => {} });
    try {
      const n = 60;
      const done = new Set<string>();
      engine.subscribe((e) => {
        if (e.type === 'outcome' && e.event['detail-type'] === 'Job Run Succeeded')
          done.add(e.event.detail.runId);
      });
      // All at once, as a burst of invokes: n - 2 launches find the cap reached and wait for a slot.
      const accepted = await Promise.all(Array.from({ length: n }, (_, i) => engine.invoke('capped', { i })));
      expect(accepted.every((a) => a.status === 'accepted')).toBe(true);
      await waitFor(
        () => done.size >= n,
        60_000,
        () => `${done.size} of ${n} succeeded`,
      );
      // Each launch tries for a slot once on arrival and once when woken: about 2n. Waking every waiter on
      // each release (the old behaviour) made it about n²/(2 × cap), here ~900.
      expect(acquire.mock.calls.length).toBeLessThanOrEqual(3 * n);
    } finally {
      acquire.mockRestore();
      await engine.stop();
      cleanup(project);
    }
  }, 90_000);
});
