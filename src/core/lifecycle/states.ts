/** Run and attempt states, shared by the AWS runtime and the local engine. */

/** Where a run is. Final states never change again. */
export const RUN_STATUSES = [
  'queued',
  'launching',
  'running',
  'retrying',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const FINAL_RUN_STATUSES = ['succeeded', 'failed', 'timed_out', 'cancelled'] as const;
export type FinalRunStatus = (typeof FINAL_RUN_STATUSES)[number];

export function isFinalStatus(status: RunStatus): status is FinalRunStatus {
  return (FINAL_RUN_STATUSES as readonly string[]).includes(status);
}

/** How one attempt ended. Every ECS stop and every local exit maps into exactly one class. */
export const OUTCOME_CLASSES = [
  'succeeded',
  'app_error',
  'oom',
  'start_failure',
  'spot_interrupted',
  'timed_out',
  'cancelled',
  'lost',
] as const;
export type OutcomeClass = (typeof OUTCOME_CLASSES)[number];

/** Attempt states: an attempt is launched, runs, then ends with an outcome class. */
export const ATTEMPT_STATUSES = ['launching', 'running', 'ended'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/** Final run status for a final attempt outcome. */
export function finalStatusFor(outcome: OutcomeClass): FinalRunStatus {
  switch (outcome) {
    case 'succeeded':
      return 'succeeded';
    case 'timed_out':
      return 'timed_out';
    case 'cancelled':
      return 'cancelled';
    case 'app_error':
    case 'oom':
    case 'start_failure':
    case 'spot_interrupted':
    case 'lost':
      return 'failed';
    default: {
      const never: never = outcome;
      throw new Error(`unknown outcome ${String(never)}`);
    }
  }
}
