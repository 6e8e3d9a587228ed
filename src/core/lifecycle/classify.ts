import type { OutcomeClass } from './states.js';

/** Exit code a job uses to say "this failure is final, do not retry" (see `berth/task`'s `failPermanently`). */
export const NO_RETRY_EXIT_CODE = 86;

/** StopTask reasons berth writes itself, so the interceptor can tell why it stopped a task. */
export const BERTH_STOP_REASONS = {
  timeout: 'berth: timeout',
  cancel: 'berth: cancelled',
  /** A local attempt that cannot start for a reason no retry can fix (no command, missing executable). */
  config: 'berth: cannot start locally',
} as const;

/** Everything known about how one attempt ended, from ECS or from a local process. */
export interface AttemptEnd {
  /** Essential containers only. `exitCode` is absent when the container never ran. */
  containers: { name?: string; exitCode?: number | null; reason?: string | null }[];
  /** ECS `stopCode` (open string; may be absent). */
  stopCode?: string | null;
  /** ECS `stoppedReason`, or the local engine's equivalent. */
  stoppedReason?: string | null;
  /** Signal that ended a local process (`SIGKILL`, `SIGTERM`, …). */
  signal?: string | null;
  /** DescribeTasks reported the task `MISSING`, or a local child vanished with its engine. */
  missing?: boolean;
  /** The process could not be started at all (local: command not found, ECS: RunTask failures[]). */
  launchFailed?: boolean;
}

export interface Classification {
  outcome: OutcomeClass;
  /** Exit code of the first essential container that failed (or of the first one). */
  exitCode: number | null;
  /** The most telling reason text, for people. */
  reason: string | null;
}

/** Reason prefixes that mean the task never got to run the job's code (Fargate PV 1.4+ and older). */
const START_FAILURE_PREFIXES = [
  'CannotPullContainerError',
  'ResourceInitializationError',
  'CannotStartContainerError',
  'ContainerRuntimeTimeoutError',
  'ContainerRuntimeError',
  'DockerTimeoutError',
  'CannotCreateVolumeError',
  'CannotInspectContainerError',
  'CannotStopContainerError',
  'Timeout waiting for network interface provisioning',
  'Task failed to start',
  'TaskFailedToStart',
  'InternalError',
];
const SPOT_STOP_CODES = ['SpotInterruption', 'TerminationNotice'];
const SPOT_REASON = 'Your Spot Task was interrupted';

function startsWithAny(text: string | null | undefined, prefixes: readonly string[]): boolean {
  if (!text) return false;
  return prefixes.some((p) => text.startsWith(p));
}

/**
 * Classifies how an attempt ended. Order matters: berth's own stops first, then Spot, user stops,
 * start failures, memory, and finally the exit codes.
 */
export function classifyAttempt(end: AttemptEnd): Classification {
  const reasons = [end.stoppedReason, ...end.containers.map((c) => c.reason)].filter(
    (r): r is string => typeof r === 'string' && r.length > 0,
  );
  const firstReason = reasons[0] ?? null;
  const failed = end.containers.find((c) => typeof c.exitCode === 'number' && c.exitCode !== 0);
  const anyExit = end.containers.find((c) => typeof c.exitCode === 'number');
  const exitCode = failed?.exitCode ?? anyExit?.exitCode ?? null;
  const result = (outcome: OutcomeClass, reason: string | null = firstReason): Classification => ({
    outcome,
    exitCode,
    reason,
  });

  if (end.missing) return result('lost', firstReason ?? 'task is missing: its stop was never seen');
  if (end.stoppedReason?.startsWith(BERTH_STOP_REASONS.timeout))
    return result('timed_out', end.stoppedReason);
  if (end.stoppedReason?.startsWith(BERTH_STOP_REASONS.cancel)) return result('cancelled', end.stoppedReason);
  if (
    (end.stopCode && SPOT_STOP_CODES.includes(end.stopCode)) ||
    reasons.some((r) => r.startsWith(SPOT_REASON))
  ) {
    return result('spot_interrupted', reasons.find((r) => r.startsWith(SPOT_REASON)) ?? firstReason);
  }
  if (end.stopCode === 'UserInitiated') return result('cancelled');
  if (end.launchFailed) return result('start_failure');
  const startReason = reasons.find((r) => startsWithAny(r, START_FAILURE_PREFIXES));
  if (end.stopCode === 'TaskFailedToStart' || end.stopCode === 'InfrastructureHealth' || startReason) {
    return result('start_failure', startReason ?? firstReason);
  }
  const oomReason = reasons.find((r) => r.includes('OutOfMemoryError') || r.includes('OOM'));
  if (oomReason) return result('oom', oomReason);
  // Exit 137 is SIGKILL. A kill berth did not order is, on Fargate and locally alike, almost always the
  // kernel's OOM killer; ECS sometimes omits the OutOfMemoryError reason, so 137 alone means `oom`.
  if (exitCode === 137 || end.signal === 'SIGKILL')
    return result('oom', firstReason ?? 'killed (SIGKILL / exit 137)');
  if (end.containers.length > 0 && end.containers.every((c) => c.exitCode === 0) && !end.signal) {
    return result('succeeded', null);
  }
  if (failed || end.signal)
    return result('app_error', firstReason ?? (end.signal ? `killed by ${end.signal}` : null));
  // Stopped, yet no essential container reported an exit code: it never ran.
  return result('start_failure', firstReason ?? 'no essential container reported an exit code');
}
