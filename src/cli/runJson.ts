/**
 * The run JSON of `berth runs list|show --json`, the same locally and with `--stage` (documented in the
 * README). One place, so the two back ends cannot drift apart.
 */
import type { RunStatus } from '../core/lifecycle/states.js';
import { summarizeTrigger } from '../core/lifecycle/trigger.js';
import type { RunRecord } from '../runtime/ports.js';

export interface RunJson {
  runId: string;
  job: string;
  status: RunStatus;
  /** Attempts made so far (the current attempt number). */
  attempts: number;
  maxAttempts: number;
  trigger: RunRecord['trigger'];
  triggerSummary: string;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
  exitCode: number | null;
  outcome: RunRecord['outcome'];
  reason: string | null;
  decision: string | null;
  nextAttemptAt: string | null;
  deadLettered: boolean;
  /** The run this one replays or redrives; null for a run of its own trigger. */
  replayOf: string | null;
}

export function runJson(run: RunRecord): RunJson {
  return {
    runId: run.runId,
    job: run.job,
    status: run.status,
    attempts: run.attempt,
    maxAttempts: run.maxAttempts,
    trigger: run.trigger,
    triggerSummary: summarizeTrigger(run.trigger),
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    endedAt: run.endedAt,
    exitCode: run.exitCode,
    outcome: run.outcome,
    reason: run.reason,
    decision: run.decision,
    nextAttemptAt: run.nextAttemptAt,
    deadLettered: run.deadLettered,
    replayOf: run.replayOf,
  };
}
