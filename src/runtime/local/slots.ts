/**
 * Launches waiting for a concurrency slot, one FIFO per job: a semaphore's wait list. When a job's slot is
 * released, exactly as many waiters as slots freed are woken, oldest first, instead of every waiting launch
 * waking, failing to get the slot and going back to sleep (which made a backlog quadratic).
 *
 * The list lives in memory; the launches themselves stay durable: each waiting launch message stays received
 * (hidden, its receipt kept) on the launch queue, so an engine killed while launches wait releases them on its
 * next start like any other in-flight launch. A launch seen again (same message id, new receipt) replaces its
 * entry and keeps its place.
 */
import type { QueueMessage } from './queue.js';

/** How long a launch waiting for a slot stays hidden on the launch queue. Woken from memory long before. */
export const SLOT_WAIT_VISIBILITY_MS = 12 * 3_600_000;
/**
 * Safety net: a job with waiters gets one waiter tried this often, so a slot freed by a path that does not
 * report it (another process editing the database) is still used.
 */
export const SLOT_RECHECK_MS = 5000;

class Fifo {
  private ids: string[] = [];
  private head = 0;
  readonly messages = new Map<string, QueueMessage>();

  get size(): number {
    return this.messages.size;
  }

  push(m: QueueMessage): void {
    if (!this.messages.has(m.messageId)) this.ids.push(m.messageId);
    this.messages.set(m.messageId, m);
  }

  unshift(m: QueueMessage): void {
    if (this.messages.has(m.messageId)) {
      this.messages.set(m.messageId, m);
      return;
    }
    if (this.head > 0) this.ids[--this.head] = m.messageId;
    else this.ids.unshift(m.messageId);
    this.messages.set(m.messageId, m);
  }

  shift(): QueueMessage | undefined {
    while (this.head < this.ids.length) {
      const id = this.ids[this.head++] as string;
      const m = this.messages.get(id);
      if (!m) continue;
      this.messages.delete(id);
      this.compact();
      return m;
    }
    this.compact();
    return undefined;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.head = 0;
    }
    if (this.messages.size === 0) {
      this.ids = [];
      this.head = 0;
    }
  }
}

export class SlotWaiters {
  private readonly byJob = new Map<string, Fifo>();

  /** Adds a launch at the back of its job's line (or updates its receipt where it stands). */
  add(job: string, m: QueueMessage): void {
    let fifo = this.byJob.get(job);
    if (!fifo) {
      fifo = new Fifo();
      this.byJob.set(job, fifo);
    }
    fifo.push(m);
  }

  /** Puts a woken launch that still found no slot back at the front of its job's line. */
  putBack(job: string, m: QueueMessage): void {
    let fifo = this.byJob.get(job);
    if (!fifo) {
      fifo = new Fifo();
      this.byJob.set(job, fifo);
    }
    fifo.unshift(m);
  }

  /** Removes and returns up to `n` launches of `job`, oldest first. */
  take(job: string, n: number): QueueMessage[] {
    const fifo = this.byJob.get(job);
    const out: QueueMessage[] = [];
    if (!fifo) return out;
    while (out.length < n) {
      const m = fifo.shift();
      if (!m) break;
      out.push(m);
    }
    if (fifo.size === 0) this.byJob.delete(job);
    return out;
  }

  /** Forgets a launch (it was handled another way, e.g. received again after an engine restart). */
  remove(job: string, messageId: string): void {
    const fifo = this.byJob.get(job);
    if (!fifo) return;
    fifo.messages.delete(messageId);
    if (fifo.size === 0) this.byJob.delete(job);
  }

  size(job: string): number {
    return this.byJob.get(job)?.size ?? 0;
  }

  /** Jobs that have launches waiting. */
  jobs(): string[] {
    return [...this.byJob.keys()];
  }

  clear(): void {
    this.byJob.clear();
  }
}
