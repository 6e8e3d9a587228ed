/**
 * What the CLI does without a running engine: it writes straight into `.berth/dev.db` through the same
 * lifecycle code, in one transaction, and a running engine picks the change up at once (`close` nudges it,
 * see nudge.ts; it also polls SQLite's `data_version`). SQLite is the one durable source of truth, so `send` and `invoke` work the same whether
 * `berth dev` is up or not, and "accepted" always means "committed".
 */
import { randomUUID } from 'node:crypto';
import type { Json } from '../../core/model/common.js';
import type { Job } from '../../core/model/job.js';
import { type AcceptResult, acceptTrigger } from '../lifecycle.js';
import { type LifecycleDeps, systemClock } from '../ports.js';
import { type Db, openDevDb } from './db.js';
import { nudgeEngine } from './nudge.js';
import type { DevPaths } from './paths.js';
import { jobQueueName, SqliteLaunchQueue, SqliteQueues } from './queue.js';
import { SqliteRunStore } from './store.js';
import { TxRunner } from './tx.js';

export interface DirectHandle {
  db: Db;
  store: SqliteRunStore;
  queues: SqliteQueues;
  deps: LifecycleDeps;
  tx: TxRunner;
  close(): void;
}

export function openDirect(paths: DevPaths): DirectHandle {
  const db = openDevDb(paths.db);
  const store = new SqliteRunStore(db);
  const queues = new SqliteQueues(db);
  const deps: LifecycleDeps = {
    store,
    queue: new SqliteLaunchQueue(queues),
    launcher: {
      launch: async () => ({
        ok: false,
        kind: 'throttled',
        reason: 'the CLI does not launch; berth dev does',
      }),
    },
    events: { publish: async () => {} },
    clock: systemClock,
    environment: 'local',
  };
  const close = () => {
    db.close();
    // A running engine reads what was just committed now, not at its next poll.
    nudgeEngine(paths.dir);
  };
  return { db, store, queues, deps, tx: new TxRunner(db), close };
}

/** Queue name a job's queue trigger reads (its existing queue's name, else the job name). */
export function queueNameOf(job: Job): string | undefined {
  const q = job.triggers.find((t) => t.kind === 'queue');
  if (!q) return undefined;
  if (!q.existing) return job.name;
  return q.existing.includes(':') ? (q.existing.split(':').pop() as string) : q.existing;
}

export function sendDirect(
  handle: DirectHandle,
  job: Job,
  body: string,
  options: { delaySeconds?: number; groupId?: string; deduplicationId?: string } = {},
): { messageId: string; md5OfBody: string } {
  return handle.queues.send(jobQueueName(job.name), body, {
    delayMs: (options.delaySeconds ?? 0) * 1000,
    ...(options.groupId !== undefined ? { groupId: options.groupId } : {}),
    // Deduplication applies to FIFO queues only (as on SQS).
    ...(options.deduplicationId !== undefined && job.triggers.some((t) => t.kind === 'queue' && t.fifo)
      ? { deduplicationId: options.deduplicationId }
      : {}),
  });
}

export function invokeDirect(handle: DirectHandle, job: Job, payload?: Json): Promise<AcceptResult> {
  return handle.tx.run(() =>
    acceptTrigger(handle.deps, job, {
      kind: 'manual',
      requestId: randomUUID(),
      ...(payload !== undefined ? { payload } : {}),
    }),
  );
}
