/**
 * The stopped-task interceptor: ECS Task State Change → (berth's tasks only, newest version only, STOPPED
 * only) → the lifecycle's `recordStop`, which classifies, records, retries or finishes, and publishes.
 * A service-mode job's worker (started by its ECS service, not by berth) goes to `recordWorkerStop`: one run
 * per worker task, no retry, an outcome event with `mode: 'service'`.
 */
import { runIdFromStartedBy } from '../../core/lifecycle/idempotency.js';
import type { Job } from '../../core/model/job.js';
import {
  ORPHAN_REASON,
  type RunMode,
  recordOrphanStop,
  recordStop,
  recordWorkerStop,
  type StopOutcome,
} from '../lifecycle.js';
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
  | { status: 'recorded'; runId: string; attempt: number; outcome: StopOutcome; mode?: RunMode };

export async function handleTaskStateChange(rt: AwsRuntime, event: unknown): Promise<InterceptResult> {
  if (!isTaskStateChange(event)) return { status: 'ignored', reason: 'not an ECS Task State Change event' };
  return interceptTask(rt, event);
}

/**
 * The answer for an event that records nothing: an older version of a task than one already seen (ECS
 * may deliver out of order), or a task that has not stopped yet. Undefined for a stop to record.
 */
async function staleOrNotStopped(
  rt: AwsRuntime,
  detail: EcsTaskStateChangeEvent['detail'],
): Promise<InterceptResult | undefined> {
  if (
    typeof detail.version === 'number' &&
    !(await rt.store.recordTaskVersion(detail.taskArn, detail.version))
  ) {
    return { status: 'stale', version: detail.version };
  }
  if (detail.lastStatus !== 'STOPPED')
    return { status: 'not-terminal', lastStatus: detail.lastStatus ?? '?' };
  return undefined;
}

async function interceptTask(rt: AwsRuntime, event: EcsTaskStateChangeEvent): Promise<InterceptResult> {
  const { detail } = event;
  const runId = runIdFromStartedBy(detail.startedBy);
  if (!runId) {
    const worker = workerOf(rt, event.detail);
    if (worker) return interceptWorker(rt, event, worker);
    return { status: 'ignored', reason: `task ${detail.taskArn} was not started by berth` };
  }
  const early = await staleOrNotStopped(rt, detail);
  if (early) return early;

  const run = await rt.store.getRun(runId);
  if (!run) return { status: 'ignored', reason: `run ${runId} is not in the runs table` };
  const job = rt.jobs.get(run.job);
  if (!job) return interceptOrphan(rt, event, run.job, runId);
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

/**
 * The stop of a run whose job left the stack (removed or renamed): recorded and the run ended, without
 * retry, with the sweeper's reason; never ignored, or the run would stay `running` for ever.
 */
async function interceptOrphan(
  rt: AwsRuntime,
  event: EcsTaskStateChangeEvent,
  jobName: string,
  runId: string,
): Promise<InterceptResult> {
  const { detail } = event;
  const attempt = await attemptOf(rt, runId, detail.taskArn, overrideEnv(detail).BERTH_ATTEMPT);
  if (attempt === undefined)
    return { status: 'ignored', reason: `task ${detail.taskArn} matches no attempt of run ${runId}` };
  const stop = stopReportFrom(detail, runId, attempt, undefined, event.time ?? rt.clock.now().toISOString());
  const outcome = await recordOrphanStop(rt.deps, stop, ORPHAN_REASON(jobName));
  return { status: 'recorded', runId, attempt, outcome };
}

interface Worker {
  job: Job;
  /** ECS service name (from `group`). */
  service: string;
  queue: string;
}

/**
 * The service-mode job whose worker this task is: started by an ECS service (`group: service:<name>`) from
 * the task definition family of a job that runs in `mode: 'service'` in this stack.
 */
function workerOf(rt: AwsRuntime, detail: EcsTaskStateChangeEvent['detail']): Worker | undefined {
  if (!detail.group?.startsWith('service:') || !detail.taskDefinitionArn) return undefined;
  const family = detail.taskDefinitionArn.slice(detail.taskDefinitionArn.indexOf('task-definition/') + 16);
  const familyName = family.includes(':') ? family.slice(0, family.lastIndexOf(':')) : family;
  const name = Object.entries(rt.manifest.tasks).find(([, t]) => t.family === familyName)?.[0];
  const job = name === undefined ? undefined : rt.jobs.get(name);
  if (!job?.triggers.some((t) => t.kind === 'queue' && t.mode === 'service')) return undefined;
  const queue = Object.entries(rt.manifest.queues).find(([, j]) => j === job.name)?.[0] ?? job.name;
  return { job, service: detail.group.slice('service:'.length), queue };
}

async function interceptWorker(
  rt: AwsRuntime,
  event: EcsTaskStateChangeEvent,
  worker: Worker,
): Promise<InterceptResult> {
  const { detail } = event;
  const early = await staleOrNotStopped(rt, detail);
  if (early) return early;
  const container = rt.manifest.tasks[worker.job.name]?.containerName;
  // The run id is derived from the task ARN inside recordWorkerStop; these two are placeholders.
  const stop = stopReportFrom(detail, '', 1, container, event.time ?? rt.clock.now().toISOString());
  const { runId, ...outcome } = await recordWorkerStop(
    rt.deps,
    worker.job,
    {
      service: worker.service,
      queue: worker.queue,
      createdAt: detail.createdAt ?? detail.startedAt ?? stop.stoppedAt,
      capacity: detail.capacityProviderName ?? null,
    },
    { ...stop, taskArn: detail.taskArn },
  );
  return { status: 'recorded', runId, attempt: 1, outcome, mode: 'service' };
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
