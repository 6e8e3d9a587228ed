import type { RunStatus } from '../../core/lifecycle/states.js';
import type { RunRecord, RunStore, TransitionOptions } from '../ports.js';

export interface SlotHolder {
  job: string;
  runId: string;
  acquiredAt: string;
}

/**
 * An unconfirmed `Retrying` event: the outbox entry a retry transition opens (`TransitionOptions.retryEvent`).
 * It keeps what the event says about the attempt that stopped, whatever the run has done since.
 */
export interface PendingRetryEvent {
  runId: string;
  /** The attempt that stopped and is retried. */
  attempt: number;
  outcome: RunRecord['outcome'];
  exitCode: number | null;
  stopCode: string | null;
  reason: string | null;
  decision: string | null;
  nextAttemptAt: string | null;
  /** When the run entered `retrying`. */
  updatedAt: string;
}

/**
 * The outbox entry a retry transition opens (both run stores build it the same way): the attempt that stopped
 * is `condition.attempt`, else the one before the attempt the patch moves to.
 */
export function pendingRetryEvent(
  runId: string,
  patch: Partial<RunRecord>,
  condition: TransitionOptions,
  updatedAt: string,
): PendingRetryEvent {
  return {
    runId,
    attempt: condition.attempt ?? (patch.attempt ?? 2) - 1,
    outcome: patch.outcome ?? null,
    exitCode: patch.exitCode ?? null,
    stopCode: patch.stopCode ?? null,
    reason: patch.reason ?? null,
    decision: patch.decision ?? null,
    nextAttemptAt: patch.nextAttemptAt ?? null,
    updatedAt,
  };
}

/**
 * The run store the AWS handlers need: the lifecycle's `RunStore` plus what only the AWS side does
 * (ECS event versions, the final-event outbox, slot housekeeping).
 */
export interface AwsRunStore extends RunStore {
  /**
   * Remembers the highest `detail.version` seen for a task. False when a higher version was seen already
   * (an older event arriving late). Equal versions pass: a redelivered stop must be able to finish its work.
   */
  recordTaskVersion(taskArn: string, version: number): Promise<boolean>;
  /** Clears the "final event not yet published" mark that every transition into a final state sets. */
  markEventPublished(runId: string): Promise<void>;
  /** Final runs whose final event was not confirmed published, last changed before `before`. */
  listUnpublishedFinalRuns(before: Date, limit?: number): Promise<RunRecord[]>;
  /** Closes the outbox entry of the `Retrying` event of one attempt. */
  markRetryEventPublished(runId: string, attempt: number): Promise<void>;
  /** `Retrying` events not confirmed published, opened before `before`, oldest first. */
  listUnpublishedRetryEvents(before: Date, limit?: number): Promise<PendingRetryEvent[]>;
  /** Runs in one status, optionally only those last changed before `before` (sweeper queries). */
  listByStatus(status: RunStatus, options?: { before?: Date; limit?: number }): Promise<RunRecord[]>;
  /** Concurrency slots currently held for a job. */
  listSlots(job: string): Promise<SlotHolder[]>;
}
