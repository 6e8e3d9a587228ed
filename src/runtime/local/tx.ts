/**
 * One lifecycle step = one SQLite transaction. The lifecycle is async (its ports return promises), so the
 * engine runs steps one at a time through this chain and wraps each in BEGIN IMMEDIATE … COMMIT: a `kill -9`
 * at any point leaves either all of a step's writes or none.
 */
import type { Db } from './db.js';

export class TxRunner {
  private chain: Promise<unknown> = Promise.resolve();
  /** Called after each step, committed or rolled back (the engine flushes events and wakes pumps). */
  afterCommit: (committed: boolean) => void = () => {};

  constructor(private readonly db: Db) {}

  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.chain.then(async () => {
      this.db.prepare('BEGIN IMMEDIATE').run();
      let committed = false;
      try {
        const result = await fn();
        if (this.db.inTransaction) this.db.prepare('COMMIT').run();
        committed = true;
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.prepare('ROLLBACK').run();
        throw error;
      } finally {
        this.afterCommit(committed);
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /**
   * Commits what the current step wrote so far, runs `fn` outside any transaction (each statement commits
   * on its own), then opens a new transaction. Used right before a side effect that cannot be rolled back
   * (spawning a process): the intent is on disk before the effect happens.
   */
  outside<T>(fn: () => T): T {
    const was = this.db.inTransaction;
    if (was) this.db.prepare('COMMIT').run();
    try {
      return fn();
    } finally {
      if (was) this.db.prepare('BEGIN IMMEDIATE').run();
    }
  }

  /** Resolves when every queued step has finished. */
  async idle(): Promise<void> {
    let current: Promise<unknown>;
    do {
      current = this.chain;
      await current;
    } while (current !== this.chain);
  }
}
