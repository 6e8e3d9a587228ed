/**
 * The stopped-task interceptor: ECS Task State Change → (berth's tasks only, newest version only, STOPPED
 * only) → the lifecycle's `recordStop`, which classifies, records, retries or finishes, and publishes.
 */
import { runIdFromStartedBy } from '../../core/lifecycle/idempotency.js';
import { recordStop, type StopOutcome } from '../lifecycle.js';
import type { AwsRuntime } from './runtime.js';
import {
  type EcsTaskStateChangeEvent,
  isTaskStateChange,
  overrideEnv,
  stopReportFrom,
} from './taskEvents.js';

export type InterceptResult =
  | { status: 'ignored'; reason: string }
  | { status: 'stale'; version: number }
  | { status: 'not-terminal'; lastStatus: string }
  | { status: 'recorded'; runId: string; attempt: number; outcome: StopOutcome };

export async function handleTaskStateChange(rt: AwsRuntime, event: unknown): Promise<InterceptResult> {
  if (!isTaskStateChange(event)) return { status: 'ignored', reason: 'not an ECS Task State Change event' };
  return interceptTask(rt, event);
}

async function interceptTask(rt: AwsRuntime, event: EcsTaskStateChangeEvent): Promise<InterceptResult> {
  const { detail } = event;
  const runId = runIdFromStartedBy(detail.startedBy);
  if (!runId) return { status: 'ignored', reason: `task ${detail.taskArn} was not started by berth` };
  if (
    typeof detail.version === 'number' &&
    !(await rt.store.recordTaskVersion(detail.taskArn, detail.version))
  ) {
    return { status: 'stale', version: detail.version };
  }
  if (detail.lastStatus !== 'STOPPED')
    return { status: 'not-terminal', lastStatus: detail.lastStatus ?? '?' };

  const run = await rt.store.getRun(runId);
  if (!run) return { status: 'ignored', reason: `run ${runId} is not in the runs table` };
  const job = rt.jobs.get(run.job);
  if (!job) return { status: 'ignored', reason: `job ${run.job} is not in this stack's manifest` };
  const container = rt.manifest.tasks[job.name]?.containerName;
  const attempt = await attemptOf(rt, runId, detail.taskArn, overrideEnv(detail, container).BERTH_ATTEMPT);
  if (attempt === undefined)
    return { status: 'ignored', reason: `task ${detail.taskArn} matches no attempt of run ${runId}` };
  const report = stopReportFrom(
    detail,
    runId,
    attempt,
    container,
    event.time ?? rt.clock.now().toISOString(),
  );
  const outcome = await recordStop(rt.deps, job, report);
  return { status: 'recorded', runId, attempt, outcome };
}

/** The attempt a task ran: `BERTH_ATTEMPT` from the overrides, else the attempt that records the task. */
async function attemptOf(
  rt: AwsRuntime,
  runId: string,
  taskArn: string,
  fromEnv: string | undefined,
): Promise<number | undefined> {
  const n = Number(fromEnv);
  if (Number.isInteger(n) && n >= 1) return n;
  const attempts = await rt.store.listAttempts(runId);
  return attempts.find((a) => a.taskArn === taskArn)?.attempt;
}
