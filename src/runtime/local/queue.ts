/**
 * Durable queues in SQLite with SQS semantics: a received message is hidden for its visibility timeout and
 * comes back unless deleted; every receive counts; a message received `maxReceiveCount` times moves to the
 * queue's dead-letter queue on its next receive (SQS: "when the ReceiveCount … exceeds the maxReceiveCount");
 * messages can be sent with a delay; receive takes a batch. FIFO queues (`fifo: true` on receive) deliver
 * each message group in order and hold a group back while one of its messages is in flight (other groups
 * go on in parallel); a send with a deduplication id already seen on the queue within 5 minutes is
 * accepted and dropped, as SQS FIFO does. Used for the jobs' own queues and for the
 * engine's internal launch queue.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { LaunchMessage, LaunchQueue } from '../ports.js';
import type { QueueStats } from './api.js';
import type { Db } from './db.js';

export const LAUNCH_QUEUE = 'berth:launch';

/** Name of the dead-letter queue of a queue. */
export function dlqName(queue: string): string {
  return `${queue}:dlq`;
}

/** Name of a job's own queue. */
export function jobQueueName(job: string): string {
  return `job:${job}`;
}

export interface QueueMessage {
  messageId: string;
  body: string;
  attributes: Record<string, unknown> | null;
  groupId: string | null;
  receiptHandle: string;
  receiveCount: number;
  sentAt: number;
  firstReceivedAt: number;
}

export interface SendOptions {
  delayMs?: number;
  messageId?: string;
  attributes?: Record<string, unknown>;
  groupId?: string;
  /** FIFO: a second send with this id within `DEDUP_WINDOW_MS` is accepted and dropped. */
  deduplicationId?: string;
  now?: number;
}

/** SQS FIFO deduplication interval: 5 minutes. */
export const DEDUP_WINDOW_MS = 5 * 60_000;

export interface ReceiveOptions {
  max: number;
  visibilityMs: number;
  /** Deliveries before the message moves to the dead-letter queue; unlimited when unset. */
  maxReceiveCount?: number;
  /** FIFO: deliver each message group in order, one batch of a group in flight at a time. */
  fifo?: boolean;
  now?: number;
}

export function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

type MessageRow = {
  seq: number;
  message_id: string;
  body: string;
  attributes: string | null;
  group_id: string | null;
  sent_at: number;
  receive_count: number;
  first_received_at: number | null;
};

export class SqliteQueues {
  constructor(private readonly db: Db) {}

  send(queue: string, body: string, options: SendOptions = {}): { messageId: string; md5OfBody: string } {
    const now = options.now ?? Date.now();
    const insert = (): { messageId: string; md5OfBody: string } => {
      const dedupId = options.deduplicationId;
      if (dedupId !== undefined) {
        this.db
          .prepare('DELETE FROM message_dedup WHERE queue = ? AND sent_at <= ?')
          .run(queue, now - DEDUP_WINDOW_MS);
        const seen = this.db
          .prepare('SELECT message_id FROM message_dedup WHERE queue = ? AND dedup_id = ?')
          .get(queue, dedupId) as { message_id: string } | undefined;
        // A duplicate is accepted (the sender sees success and the first message's id) but not queued.
        if (seen) return { messageId: seen.message_id, md5OfBody: md5Hex(body) };
      }
      const messageId = options.messageId ?? randomUUID();
      this.db
        .prepare(
          `INSERT INTO messages (queue, message_id, body, attributes, group_id, sent_at, visible_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          queue,
          messageId,
          body,
          options.attributes ? JSON.stringify(options.attributes) : null,
          options.groupId ?? null,
          now,
          now + Math.max(0, options.delayMs ?? 0),
        );
      if (dedupId !== undefined)
        this.db
          .prepare('INSERT INTO message_dedup (queue, dedup_id, message_id, sent_at) VALUES (?, ?, ?, ?)')
          .run(queue, dedupId, messageId, now);
      return { messageId, md5OfBody: md5Hex(body) };
    };
    if (options.deduplicationId === undefined || this.db.inTransaction) return insert();
    return this.db.transaction(insert).immediate();
  }

  /**
   * Sends a message that is received at once by the sender (receive count 1, hidden for `visibilityMs`):
   * the sender handles it without a receive, and if it dies first the message shows again like any other
   * in-flight one.
   */
  sendReceived(queue: string, body: string, visibilityMs: number, now = Date.now()): QueueMessage {
    const messageId = randomUUID();
    const receipt = randomUUID();
    this.db
      .prepare(
        `INSERT INTO messages (queue, message_id, body, sent_at, visible_at, receive_count, first_received_at, receipt)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?)`,
      )
      .run(queue, messageId, body, now, now + visibilityMs, now, receipt);
    return {
      messageId,
      body,
      attributes: null,
      groupId: null,
      receiptHandle: receipt,
      receiveCount: 1,
      sentAt: now,
      firstReceivedAt: now,
    };
  }

  /** Receives up to `max` visible messages, oldest first. Runs in one transaction. */
  receive(queue: string, options: ReceiveOptions): QueueMessage[] {
    const now = options.now ?? Date.now();
    // Most receives find nothing: answer those with one read instead of a write transaction.
    if (
      !this.db.inTransaction &&
      !this.db.prepare('SELECT 1 FROM messages WHERE queue = ? AND visible_at <= ? LIMIT 1').get(queue, now)
    )
      return [];
    const take = this.db.transaction((): QueueMessage[] => {
      const out: QueueMessage[] = [];
      // FIFO: a group whose earlier message is in flight (or delayed) is held back entirely.
      const rows = (
        options.fifo
          ? this.db
              .prepare(
                `SELECT seq, message_id, body, attributes, group_id, sent_at, receive_count, first_received_at
                 FROM messages m WHERE queue = ? AND visible_at <= ? AND (group_id IS NULL OR NOT EXISTS (
                   SELECT 1 FROM messages p WHERE p.queue = m.queue AND p.group_id = m.group_id
                   AND p.seq < m.seq AND p.visible_at > ?))
                 ORDER BY seq LIMIT ?`,
              )
              .all(queue, now, now, Math.max(1, options.max) * 2)
          : this.db
              .prepare(
                `SELECT seq, message_id, body, attributes, group_id, sent_at, receive_count, first_received_at
                 FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?`,
              )
              .all(queue, now, Math.max(1, options.max) * 2)
      ) as MessageRow[];
      // Oldest first by seq, so a FIFO group's messages come out in order; a batch may hold several of them.
      for (const row of rows) {
        if (out.length >= options.max) break;
        if (options.maxReceiveCount !== undefined && row.receive_count >= options.maxReceiveCount) {
          this.db
            .prepare(
              'UPDATE messages SET queue = ?, visible_at = ?, receipt = NULL, dead_lettered_at = ? WHERE seq = ?',
            )
            .run(dlqName(queue), now, now, row.seq);
          continue;
        }
        const receipt = randomUUID();
        const firstReceivedAt = row.first_received_at ?? now;
        this.db
          .prepare(
            'UPDATE messages SET receive_count = receive_count + 1, visible_at = ?, receipt = ?, first_received_at = ? WHERE seq = ?',
          )
          .run(now + options.visibilityMs, receipt, firstReceivedAt, row.seq);
        out.push({
          messageId: row.message_id,
          body: row.body,
          attributes: row.attributes ? (JSON.parse(row.attributes) as Record<string, unknown>) : null,
          groupId: row.group_id,
          receiptHandle: receipt,
          receiveCount: row.receive_count + 1,
          sentAt: row.sent_at,
          firstReceivedAt,
        });
      }
      return out;
    });
    return this.db.inTransaction ? take() : take.immediate();
  }

  /** Deletes a received message. False when the receipt is stale (the message was received again since). */
  delete(receiptHandle: string): boolean {
    return this.db.prepare('DELETE FROM messages WHERE receipt = ?').run(receiptHandle).changes === 1;
  }

  /** Hides a received message for `ms` more (0 = visible now). False for a stale receipt. */
  changeVisibility(receiptHandle: string, ms: number, now = Date.now()): boolean {
    return (
      this.db.prepare('UPDATE messages SET visible_at = ? WHERE receipt = ?').run(now + ms, receiptHandle)
        .changes === 1
    );
  }

  /** Makes every in-flight message of a queue visible now (the engine that received them is gone). */
  releaseInFlight(queue: string, now = Date.now()): number {
    return this.db
      .prepare(
        'UPDATE messages SET visible_at = ?, receipt = NULL WHERE queue = ? AND receipt IS NOT NULL AND visible_at > ?',
      )
      .run(now, queue, now).changes;
  }

  stats(queue: string, now = Date.now()): QueueStats {
    const row = this.db
      .prepare(
        `SELECT
           SUM(CASE WHEN visible_at <= ? THEN 1 ELSE 0 END) AS visible,
           SUM(CASE WHEN visible_at > ? AND receipt IS NOT NULL THEN 1 ELSE 0 END) AS in_flight,
           SUM(CASE WHEN visible_at > ? AND receipt IS NULL THEN 1 ELSE 0 END) AS delayed
         FROM messages WHERE queue = ?`,
      )
      .get(now, now, now, queue) as {
      visible: number | null;
      in_flight: number | null;
      delayed: number | null;
    };
    const dead = this.db
      .prepare('SELECT COUNT(*) AS n FROM messages WHERE queue = ?')
      .get(dlqName(queue)) as {
      n: number;
    };
    return {
      visible: row.visible ?? 0,
      inFlight: row.in_flight ?? 0,
      delayed: row.delayed ?? 0,
      deadLetter: dead.n,
    };
  }

  /** When the next message of the queue becomes visible (ms epoch), or undefined when it is empty. */
  nextVisibleAt(queue: string): number | undefined {
    const row = this.db.prepare('SELECT MIN(visible_at) AS t FROM messages WHERE queue = ?').get(queue) as {
      t: number | null;
    };
    return row.t ?? undefined;
  }

  /** Moves every dead-lettered message back to its source queue (SQS "start DLQ redrive"). */
  redriveDeadLetters(queue: string, now = Date.now()): number {
    return this.db
      .prepare(
        'UPDATE messages SET queue = ?, visible_at = ?, receive_count = 0, receipt = NULL, dead_lettered_at = NULL WHERE queue = ?',
      )
      .run(queue, now, dlqName(queue)).changes;
  }

  /** Messages waiting in a queue's dead-letter queue. */
  deadLetters(queue: string): { messageId: string; body: string; receiveCount: number }[] {
    return (
      this.db
        .prepare('SELECT message_id, body, receive_count FROM messages WHERE queue = ? ORDER BY seq')
        .all(dlqName(queue)) as { message_id: string; body: string; receive_count: number }[]
    ).map((r) => ({ messageId: r.message_id, body: r.body, receiveCount: r.receive_count }));
  }
}

/** The lifecycle's `LaunchQueue` port on the engine's internal SQLite launch queue. */
export class SqliteLaunchQueue implements LaunchQueue {
  /** Called after each enqueue (the engine wakes its launch pump). */
  onEnqueue: (delayMs: number) => void = () => {};
  /**
   * Set by the engine once it runs: a launch due now is written already received (see `sendReceived`) and
   * handed to `onClaimed`, so the engine launches it without receiving it first. The message is as durable
   * as any other; if the engine dies before launching, the next engine releases it on start.
   */
  claim: { visibilityMs: number; onClaimed: (message: QueueMessage) => void } | undefined;

  constructor(private readonly queues: SqliteQueues) {}

  async enqueue(message: LaunchMessage, delayMs: number): Promise<void> {
    const body = JSON.stringify(message);
    if (delayMs <= 0 && this.claim)
      this.claim.onClaimed(this.queues.sendReceived(LAUNCH_QUEUE, body, this.claim.visibilityMs));
    else this.queues.send(LAUNCH_QUEUE, body, { delayMs });
    this.onEnqueue(delayMs);
  }
}
