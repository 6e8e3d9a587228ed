/**
 * The run lifecycle, written once against the ports: accept a trigger, launch an attempt, record a stop,
 * retry or finish, publish outcome events. Used by the AWS handlers and by `berth dev` alike.
 */

import { estimateFargateCost } from '../core/fargate.js';
import { BERTH_STOP_REASONS, classifyAttempt } from '../core/lifecycle/classify.js';
import {
  EVENT_SOURCE,
  EVENT_TYPES,
  type EventType,
  finalEventType,
  type OutcomeDetail,
} from '../core/lifecycle/events.js';
import {
  clientTokenFor,
  idempotencyKey,
  redriveIdempotencyKey,
  replayIdempotencyKey,
  runIdFor,
  startedByFor,
} from '../core/lifecycle/idempotency.js';
import { decideRetry, type RetryDecision } from '../core/lifecycle/retry.js';
import {
  type FinalRunStatus,
  finalStatusFor,
  isFinalStatus,
  type OutcomeClass,
} from '../core/lifecycle/states.js';
import {
  planTriggerStorage,
  triggerStub as stubOf,
  summarizeTrigger,
  type TriggerPayload,
  taskTrigger,
  triggerRef,
} from '../core/lifecycle/trigger.js';
import { isEc2Capacity } from '../core/model/capacity.js';
import type { Job } from '../core/model/job.js';
import type { AttemptRecord, LaunchCapacity, LifecycleDeps, RunRecord, StopReport } from './ports.js';

/** ECS container overrides are capped at 8,192 characters in all; keep BERTH_TRIGGER well inside. */
export const DEFAULT_MAX_INLINE_TRIGGER = 6000;
/** How long a launch waits before another try when the job is at its concurrency cap. */
export const CONCURRENCY_RECHECK_MS = 5000;
/** Back-off after a launch's first throttle; it doubles with every further throttle of that launch. */
export const THROTTLE_BASE_DELAY_MS = 1000;
/** The longest back-off after a throttle. */
export const THROTTLE_MAX_DELAY_MS = 60_000;

/**
 * How long a launch waits after its `throttles`-th throttle (0 = the first): 1 s doubling up to 60 s, keyed on
 * how often this launch was throttled, never on the attempt number. Half of it is random ("equal jitter"), so
 * launches throttled in the same second come back spread out instead of as one burst.
 */
export function throttleDelayMs(throttles: number, random: number): number {
  const ceiling = Math.min(
    THROTTLE_MAX_DELAY_MS,
    THROTTLE_BASE_DELAY_MS * 2 ** Math.min(Math.max(0, throttles), 16),
  );
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** Written into an attempt's reason when Spot had no capacity and the attempt moved to on-demand. */
const FALLBACK_NOTE = 'falling back to FARGATE';

/**
 * A new run record: the identifying fields given, attempt 1, and everything only known later empty.
 * The one place a run record is built (stores, launcher, tests).
 */
export function newRunRecord(
  init: Pick<
    RunRecord,
    'runId' | 'job' | 'status' | 'maxAttempts' | 'trigger' | 'idempotencyKey' | 'createdAt'
  > &
    Partial<RunRecord>,
): RunRecord {
  return {
    attempt: 1,
    updatedAt: init.createdAt,
    endedAt: null,
    outcome: null,
    exitCode: null,
    stopCode: null,
    reason: null,
    decision: null,
    nextAttemptAt: null,
    taskArn: null,
    deadLettered: false,
    replayOf: null,
    ...init,
  };
}

/** The change that ends a run cancelled before any task ran (the dashboard's and the console's Cancel). */
export function cancelledBeforeRun(now: string): Partial<RunRecord> & { status: 'cancelled' } {
  return {
    status: 'cancelled',
    endedAt: now,
    updatedAt: now,
    outcome: 'cancelled',
    reason: BERTH_STOP_REASONS.cancel,
    decision: 'cancelled before it ran',
  };
}

/** A new attempt record: the fields given, everything only known once it ends empty. */
export function newAttemptRecord(
  init: Pick<AttemptRecord, 'runId' | 'attempt' | 'status' | 'launchedAt'> & Partial<AttemptRecord>,
): AttemptRecord {
  return {
    taskArn: null,
    capacity: null,
    startedAt: null,
    stoppedAt: null,
    durationMs: null,
    outcome: null,
    exitCode: null,
    stopCode: null,
    reason: null,
    costUsd: null,
    ...init,
  };
}

export type AcceptResult =
  | { status: 'accepted'; runId: string }
  | { status: 'duplicate'; runId: string }
  | { status: 'skipped'; reason: string };

/**
 * Accepts one trigger: derives its idempotency key and run id, creates the run (a duplicate trigger finds
 * the run already there and stops), then queues the first attempt's launch.
 */
export async function acceptTrigger(
  deps: LifecycleDeps,
  job: Job,
  trigger: TriggerPayload,
  options: {
    /** Launch in this call instead of through the launch queue. */
    launchInline?: boolean;
    /** Replaces the derived idempotency key (replays and redrives: a new run for an old trigger). */
    idempotencyKey?: string;
    /** The run this one replays (its `replayOf`). */
    replayOf?: string;
  } = {},
): Promise<AcceptResult> {
  const key = options.idempotencyKey ?? idempotencyKey(job.name, trigger);
  const runId = runIdFor(key);
  if (trigger.kind === 'schedule' && job.overlap === 'skip') {
    const active = await deps.store.countActive(job.name);
    if (active > 0)
      return {
        status: 'skipped',
        reason: `overlap 'skip': ${active} ${active === 1 ? 'run' : 'runs'} of ${job.name} still active`,
      };
    // The decision itself is a conditional write: the job's single overlap slot, taken before the run exists.
    // Two fires in one batch both count nothing active; only one of them gets the slot. A repeat of the same
    // fire gets it again (acquireSlot is idempotent per run), so a duplicate stays a duplicate, not a skip.
    if (!(await deps.store.acquireSlot(job.name, runId, 1)))
      return {
        status: 'skipped',
        reason: `overlap 'skip': another run of ${job.name} holds the job (accepted at the same time)`,
      };
  }
  const now = deps.clock.now().toISOString();
  const run = newRunRecord({
    runId,
    job: job.name,
    status: 'queued',
    maxAttempts: job.retry.maxAttempts,
    trigger: await storedTrigger(deps, job, runId, trigger),
    idempotencyKey: key,
    createdAt: now,
    updatedAt: now,
    replayOf: options.replayOf ?? null,
  });
  const created = await deps.store.createRun(run);
  if (!created) {
    // A crash may have left the run created but never launched; re-queueing is safe, launches are idempotent.
    const existing = await deps.store.getRun(runId);
    if (existing?.status === 'queued' && !options.launchInline) {
      await deps.queue.enqueue({ type: 'launch', job: job.name, runId, attempt: existing.attempt }, 0);
    }
    return { status: 'duplicate', runId };
  }
  if (options.launchInline) await launchAttempt(deps, job, runId, 1);
  else await deps.queue.enqueue({ type: 'launch', job: job.name, runId, attempt: 1 }, 0);
  return { status: 'accepted', runId };
}

/**
 * The trigger as the run record keeps it (see `planTriggerStorage`): the body once, and a large trigger in
 * the payload store with a stub in the record. Writing it again for a duplicate overwrites the same object.
 */
async function storedTrigger(
  deps: LifecycleDeps,
  job: Job,
  runId: string,
  trigger: TriggerPayload,
): Promise<TriggerPayload> {
  const plan = planTriggerStorage(trigger);
  if (plan.kind === 'inline' || !deps.storePayload) return plan.kind === 'inline' ? plan.stored : trigger;
  const ref = await deps.storePayload(runId, plan.json, job.name);
  return stubOf(trigger, ref);
}

export type LaunchOutcome =
  | { status: 'launched'; taskArn: string }
  | { status: 'stale'; reason: string }
  /** Not launched yet: the caller must try again after `delayMs` (keep the message, do not drop it). */
  /**
   * `throttled`: ECS throttled the call. `slot`: waiting for a concurrency slot of the job (a freed slot can
   * wake it).
   */
  | { status: 'later'; delayMs: number; reason: string; throttled?: boolean; slot?: true }
  | { status: 'retry-scheduled'; delayMs: number }
  | { status: 'final'; runStatus: FinalRunStatus };

/** A scheduled run of an overlap `queue` or `skip` job runs alone: one slot; others by `maxConcurrency`. */
function concurrencyCap(job: Job, run: RunRecord): number | undefined {
  if (run.trigger.kind === 'schedule' && job.overlap !== 'allow') return 1;
  return job.maxConcurrency;
}

/** The slot an overlap `skip` fire took when it was accepted: it holds it until the run stops. */
function holdsOverlapSlot(job: Job, run: RunRecord): boolean {
  return run.trigger.kind === 'schedule' && job.overlap === 'skip';
}

/**
 * The `BERTH_*` environment of one attempt. The trigger goes inline when the launcher says the request fits
 * (on ECS: the serialized overrides within RunTask's limit), else by reference: a trigger already in the
 * payload store keeps its reference; another one is stored now.
 */
export async function berthEnvironment(
  deps: LifecycleDeps,
  run: RunRecord,
  attempt: number,
  job?: Job,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    BERTH_JOB: run.job,
    BERTH_RUN_ID: run.runId,
    BERTH_ATTEMPT: String(attempt),
    BERTH_MAX_ATTEMPTS: String(run.maxAttempts),
  };
  const byRef = (ref: string) => {
    env.BERTH_TRIGGER_REF = ref;
    env.BERTH_TRIGGER = JSON.stringify({ kind: run.trigger.kind, ref });
    return env;
  };
  const stored = triggerRef(run.trigger);
  if (stored) return byRef(stored);
  const json = JSON.stringify(taskTrigger(run.trigger));
  if (!deps.storePayload) return { ...env, BERTH_TRIGGER: json };
  const fits =
    job && deps.launcher.fitsInline
      ? deps.launcher.fitsInline({ job, run, attempt, environment: { ...env, BERTH_TRIGGER: json } })
      : json.length <= (deps.maxInlineTrigger ?? DEFAULT_MAX_INLINE_TRIGGER);
  if (fits) return { ...env, BERTH_TRIGGER: json };
  return byRef(await deps.storePayload(run.runId, json, run.job));
}

/**
 * Launches attempt `attempt` of a run. Safe to call again with the same message: a run that moved on is
 * `stale`, and the launcher's client token keeps a repeated RunTask from starting a second task.
 */
export async function launchAttempt(
  deps: LifecycleDeps,
  job: Job,
  runId: string,
  attempt: number,
  options: {
    capacity?: LaunchCapacity;
    /** How often ECS throttled this launch before (the launch message's `throttles`). */
    throttles?: number;
  } = {},
): Promise<LaunchOutcome> {
  const run = await deps.store.getRun(runId);
  if (!run) return { status: 'stale', reason: `run ${runId} does not exist` };
  if (isFinalStatus(run.status)) return { status: 'stale', reason: `run ${runId} is already ${run.status}` };
  if (run.attempt !== attempt)
    return { status: 'stale', reason: `run ${runId} is at attempt ${run.attempt}, not ${attempt}` };
  if (run.status === 'running')
    return { status: 'stale', reason: `attempt ${attempt} of ${runId} already runs` };

  const cap = concurrencyCap(job, run);
  if (cap !== undefined && !(await deps.store.acquireSlot(job.name, runId, cap))) {
    return {
      status: 'later',
      delayMs: CONCURRENCY_RECHECK_MS,
      reason: `${job.name} is at its concurrency cap of ${cap}`,
      slot: true,
    };
  }
  const now = deps.clock.now();
  const moved = await deps.store.transition(
    runId,
    ['queued', 'retrying', 'launching'],
    {
      status: 'launching',
      updatedAt: now.toISOString(),
      nextAttemptAt: null,
    },
    { attempt },
  );
  if (!moved) {
    // acquireSlot is idempotent per run: a stale duplicate message gets `true` for the slot another
    // delivery of this run holds while its launch is in flight. Release only a slot the run no longer uses.
    if (cap !== undefined) {
      const fresh = await deps.store.getRun(runId);
      if (!fresh || (fresh.status !== 'launching' && fresh.status !== 'running'))
        await deps.store.releaseSlot(job.name, runId);
    }
    return { status: 'stale', reason: `run ${runId} moved on` };
  }
  const fallback = job.task.capacity === 'FARGATE_SPOT_WITH_FALLBACK';
  const spot = job.task.capacity === 'FARGATE_SPOT' || fallback;
  // EC2 jobs go to the stack's EC2 capacity provider; the Spot fallback below never applies to them.
  let capacity: LaunchCapacity =
    options.capacity ?? (isEc2Capacity(job.task.capacity) ? 'EC2' : spot ? 'FARGATE_SPOT' : 'FARGATE');
  const createdAttempt = await deps.store.createAttempt(
    newAttemptRecord({ runId, attempt, status: 'launching', capacity, launchedAt: now.toISOString() }),
  );
  if (!createdAttempt && fallback && options.capacity === undefined) {
    // A redelivery of an attempt that already fell back to on-demand (the earlier call may have started the
    // on-demand task, then crashed): repeat the on-demand launch with its own token, never a second Spot try.
    const earlier = (await deps.store.listAttempts(runId)).find((a) => a.attempt === attempt);
    if (earlier?.capacity === 'FARGATE' || earlier?.reason?.includes(FALLBACK_NOTE)) capacity = 'FARGATE';
  }
  const result = await deps.launcher.launch({
    job,
    run,
    attempt,
    environment: await berthEnvironment(deps, run, attempt, job),
    capacity,
    clientToken: clientTokenFor(runId, attempt) + (capacity === 'FARGATE' && spot ? '-od' : ''),
    startedBy: startedByFor(runId),
  });
  if (result.ok) {
    const started = deps.clock.now().toISOString();
    // Not over a stop already recorded (the task may have ended before this write).
    await deps.store.updateAttempt(
      runId,
      attempt,
      { status: 'running', taskArn: result.taskArn, capacity: result.capacity, startedAt: started },
      { onlyIfNotEnded: true },
    );
    const running = await deps.store.transition(
      runId,
      ['launching'],
      {
        status: 'running',
        taskArn: result.taskArn,
        updatedAt: started,
      },
      { attempt },
    );
    if (running)
      await publish(
        deps,
        job,
        { ...run, status: 'running', taskArn: result.taskArn, attempt },
        EVENT_TYPES.started,
        { startedAt: started },
      );
    return { status: 'launched', taskArn: result.taskArn };
  }
  if (result.kind === 'throttled') {
    // Nothing started: put the run back and let the queue redeliver; the trigger is never dropped.
    await deps.store.transition(
      runId,
      ['launching'],
      {
        // By attempt, not by the status read above: a fallback try or a redelivery reads `launching`.
        status: attempt > 1 ? 'retrying' : 'queued',
        updatedAt: deps.clock.now().toISOString(),
      },
      { attempt },
    );
    // An overlap 'skip' fire keeps the slot it took when accepted: it is still the one fire that runs.
    if (cap !== undefined && !holdsOverlapSlot(job, run)) await deps.store.releaseSlot(job.name, runId);
    // Held back by berth's own pacing: come back when the quota has room; that is no throttle by ECS.
    if (result.retryAfterMs !== undefined)
      return { status: 'later', delayMs: result.retryAfterMs, reason: result.reason };
    const delayMs = throttleDelayMs(options.throttles ?? 0, deps.clock.random());
    return { status: 'later', delayMs, reason: result.reason, throttled: true };
  }
  if (
    result.kind === 'capacity' &&
    capacity === 'FARGATE_SPOT' &&
    job.task.capacity === 'FARGATE_SPOT_WITH_FALLBACK'
  ) {
    // Spot had no capacity: record it on the attempt and try on-demand at once, within the same attempt.
    await deps.store.updateAttempt(runId, attempt, {
      capacity: 'FARGATE',
      reason: `FARGATE_SPOT: ${result.reason}; ${FALLBACK_NOTE}`,
    });
    return launchAttempt(deps, job, runId, attempt, { ...options, capacity: 'FARGATE' });
  }
  // RunTask failures[] produce no ECS event: record the launch outcome here, then follow the retry policy.
  const stoppedAt = deps.clock.now().toISOString();
  const outcome = await recordStop(deps, job, {
    runId,
    attempt,
    taskArn: null,
    startedAt: null,
    stoppedAt,
    containers: [],
    stoppedReason: result.reason,
    launchFailed: true,
  });
  return outcome.status === 'retrying'
    ? { status: 'retry-scheduled', delayMs: outcome.delayMs }
    : { status: 'final', runStatus: outcome.status === 'final' ? outcome.runStatus : 'failed' };
}

/** `task`: one task per trigger, retried by policy. `service`: a long-running worker of an ECS service. */
export type RunMode = OutcomeDetail['mode'];

export type StopOutcome =
  | { status: 'duplicate' }
  | { status: 'retrying'; delayMs: number; nextAttempt: number }
  | { status: 'final'; runStatus: FinalRunStatus };

/** The fields that end an attempt as its stop report says (both `recordStop` and `recordOrphanStop`). */
function endedAttempt(
  stop: StopReport,
  classification: ReturnType<typeof classifyAttempt>,
  durationMs: number | null,
): Partial<AttemptRecord> {
  return {
    status: 'ended',
    taskArn: stop.taskArn,
    startedAt: stop.startedAt,
    stoppedAt: stop.stoppedAt,
    durationMs,
    outcome: classification.outcome,
    exitCode: classification.exitCode,
    stopCode: stop.stopCode ?? null,
    reason: classification.reason,
  };
}

/**
 * Records how an attempt ended, then retries or finishes the run. Every write is conditional, so the same
 * stop seen twice produces one retry and at most one final event.
 */
export async function recordStop(deps: LifecycleDeps, job: Job, stop: StopReport): Promise<StopOutcome> {
  const run = await deps.store.getRun(stop.runId);
  if (!run || isFinalStatus(run.status) || run.attempt !== stop.attempt) return { status: 'duplicate' };
  const mode = runMode(run);
  const classification = classifyAttempt(stop);
  const reasons = [stop.stoppedReason, ...stop.containers.map((c) => c.reason)].filter(
    (r): r is string => !!r,
  );
  const startedMs = stop.startedAt ? Date.parse(stop.startedAt) : null;
  const stoppedMs = Date.parse(stop.stoppedAt);
  const durationMs = startedMs === null ? null : Math.max(0, stoppedMs - startedMs);
  const billedFrom = stop.billedFrom ?? stop.startedAt;
  // Fargate prices only: an EC2 task's cost is the instance's, shared with other tasks, so it stays null.
  const costUsd =
    deps.environment === 'aws' && billedFrom && !isEc2Capacity(job.task.capacity)
      ? estimateFargateCost({
          cpu: job.task.cpu,
          memory: job.task.memory,
          architecture: job.task.architecture,
          seconds: (stoppedMs - Date.parse(billedFrom)) / 1000,
          spot: stop.taskArn !== null && (await capacityOf(deps, stop)) === 'FARGATE_SPOT',
          ephemeralStorageGiB: job.task.ephemeralStorageGiB,
        })
      : null;
  const ended = await deps.store.updateAttempt(
    stop.runId,
    stop.attempt,
    { ...endedAttempt(stop, classification, durationMs), costUsd },
    { onlyIfNotEnded: true },
  );
  if (!ended) {
    // The attempt was recorded before. Normally a duplicate stop; but a crash between that write and the
    // run's transition leaves the run behind, so carry on while the run still waits at this attempt. The
    // conditional transition below still lets only one caller act.
    const current = await deps.store.getRun(stop.runId);
    if (!current || current.attempt !== stop.attempt || !['running', 'launching'].includes(current.status))
      return { status: 'duplicate' };
  }

  const now = deps.clock.now();
  const decision: RetryDecision =
    mode === 'service'
      ? workerDecision(classification.outcome, stop)
      : decideRetry({
          policy: job.retry,
          attempt: stop.attempt,
          classification,
          stopCode: stop.stopCode ?? null,
          reasons,
          runCreatedAt: new Date(run.createdAt),
          now,
          random: deps.clock.random(),
        });
  const common = {
    outcome: classification.outcome,
    exitCode: classification.exitCode,
    stopCode: stop.stopCode ?? null,
    reason: classification.reason,
    decision: decision.why,
    updatedAt: now.toISOString(),
  };
  const timing = { startedAt: stop.startedAt, stoppedAt: stop.stoppedAt, durationMs, costUsd };
  if (decision.action === 'retry') {
    const moved = await deps.store.transition(
      stop.runId,
      ['running', 'launching'],
      {
        ...common,
        status: 'retrying',
        attempt: decision.nextAttempt,
        nextAttemptAt: decision.notBefore.toISOString(),
        taskArn: null,
      },
      // The Retrying event's outbox entry opens in the same write: if the SendMessage below fails, the stop
      // comes back as a duplicate, and the sweeper still publishes the event.
      { attempt: stop.attempt, retryEvent: true },
    );
    if (!moved) return { status: 'duplicate' };
    await deps.store.releaseSlot(job.name, stop.runId);
    await deps.queue.enqueue(
      { type: 'launch', job: job.name, runId: stop.runId, attempt: decision.nextAttempt },
      decision.delayMs,
    );
    await publish(
      deps,
      job,
      { ...run, ...common, status: 'retrying', taskArn: stop.taskArn },
      EVENT_TYPES.retrying,
      {
        ...timing,
        nextAttemptAt: decision.notBefore.toISOString(),
      },
    );
    return { status: 'retrying', delayMs: decision.delayMs, nextAttempt: decision.nextAttempt };
  }
  const moved = await deps.store.transition(
    stop.runId,
    ['running', 'launching'],
    {
      ...common,
      status: decision.status,
      endedAt: stop.stoppedAt,
      // A worker has no trigger of its own to redrive: its messages return to the queue (and its DLQ).
      deadLettered: mode === 'task' && decision.status !== 'succeeded' && decision.status !== 'cancelled',
    },
    { attempt: stop.attempt },
  );
  if (!moved) return { status: 'duplicate' };
  await deps.store.releaseSlot(job.name, stop.runId);
  await publish(
    deps,
    job,
    { ...run, ...common, status: decision.status, taskArn: stop.taskArn },
    finalEventType(decision.status),
    timing,
  );
  return { status: 'final', runStatus: decision.status };
}

/** `service` for the run of a service-mode worker (see `recordWorkerStop`), else `task`. */
export function runMode(run: Pick<RunRecord, 'trigger'>): RunMode {
  return run.trigger.kind === 'queue' && run.trigger.worker !== undefined ? 'service' : 'task';
}

const REQUESTED_STOP_CODES = ['ServiceSchedulerInitiated', 'SpotInterruption', 'TerminationNotice'];

/**
 * How a worker's run ends. Never a retry: the ECS service starts a replacement worker and the worker's
 * unfinished messages return to the queue. A worker that ECS asked to stop (scale-in, deploy, Spot reclaim)
 * and that drained and exited 0 succeeded, whatever the outcome class says (a drained Spot worker keeps its
 * `spot_interrupted` outcome but is no failure); everything else ends as its outcome class says.
 */
function workerDecision(outcome: OutcomeClass, stop: StopReport): RetryDecision {
  const drained =
    !!stop.stopCode &&
    REQUESTED_STOP_CODES.includes(stop.stopCode) &&
    stop.containers.length > 0 &&
    stop.containers.every((c) => c.exitCode === 0);
  const status = drained ? 'succeeded' : finalStatusFor(outcome);
  return {
    action: 'final',
    status,
    why: drained
      ? `service worker stopped by ECS (${stop.stopCode}) after draining; ECS keeps the fleet at its desired count`
      : 'service worker: berth does not retry workers — ECS starts a replacement and unfinished messages return to the queue',
  };
}

/** What the interceptor knows about a stopped service-mode worker besides its stop. */
export interface WorkerStop {
  /** The ECS service (the task's `group` without `service:`). */
  service: string;
  /** Name of the queue the worker polls. */
  queue: string;
  /** When the task was created (the run's `createdAt`). */
  createdAt: string;
  /** Capacity provider the task ran on (`FARGATE`, `FARGATE_SPOT`, an EC2 provider), when known. */
  capacity: string | null;
}

/** Run id of a service worker's run: one run per worker task, so a repeated stop event finds the same run. */
export function workerRunId(job: string, taskArn: string): string {
  return runIdFor(`${job}#service#${taskArn}`);
}

/**
 * Records a stopped service-mode worker as a one-attempt run keyed by its task ARN, and publishes its final
 * outcome event with `mode: 'service'`. Idempotent: the same stop seen twice records and publishes once; a
 * call interrupted half-way finishes on the next delivery.
 */
export async function recordWorkerStop(
  deps: LifecycleDeps,
  job: Job,
  worker: WorkerStop,
  stop: Omit<StopReport, 'runId' | 'attempt'> & { taskArn: string },
): Promise<StopOutcome & { runId: string }> {
  const runId = workerRunId(job.name, stop.taskArn);
  const key = `${job.name}#service#${stop.taskArn}`;
  const now = deps.clock.now().toISOString();
  const created = await deps.store.createRun(
    newRunRecord({
      runId,
      job: job.name,
      status: 'running',
      maxAttempts: 1,
      trigger: { kind: 'queue', queue: worker.queue, messageId: '', body: '', worker: worker.service },
      idempotencyKey: key,
      createdAt: worker.createdAt,
      updatedAt: now,
      taskArn: stop.taskArn,
    }),
  );
  if (!created) {
    const existing = await deps.store.getRun(runId);
    if (!existing || isFinalStatus(existing.status)) return { status: 'duplicate', runId };
  }
  // False when a first delivery wrote it already; recordStop's conditional writes sort out the rest.
  await deps.store.createAttempt(
    newAttemptRecord({
      runId,
      attempt: 1,
      status: 'running',
      taskArn: stop.taskArn,
      capacity: worker.capacity,
      launchedAt: worker.createdAt,
      startedAt: stop.startedAt,
    }),
  );
  const outcome = await recordStop(deps, job, { ...stop, runId, attempt: 1 });
  return { ...outcome, runId };
}

/** Why a run of a job that left the stack ends (the sweeper and the interceptor both say it). */
export const ORPHAN_REASON = (job: string) =>
  `job ${job} is not in this stack any more (removed or renamed): the run ends without retry`;

/**
 * Records the stop of a run whose job is no longer in the stack (removed or renamed): there is no retry
 * policy to follow, so the run ends as its attempt ended (`timed_out` when berth stopped it for its timeout),
 * with `why` as the decision, and its final event goes out. Idempotent like `recordStop`.
 */
export async function recordOrphanStop(
  deps: LifecycleDeps,
  stop: StopReport,
  why: string,
): Promise<StopOutcome> {
  const run = await deps.store.getRun(stop.runId);
  if (!run || isFinalStatus(run.status) || run.attempt !== stop.attempt) return { status: 'duplicate' };
  const classification = classifyAttempt(stop);
  const startedMs = stop.startedAt ? Date.parse(stop.startedAt) : null;
  const durationMs = startedMs === null ? null : Math.max(0, Date.parse(stop.stoppedAt) - startedMs);
  await deps.store.updateAttempt(stop.runId, stop.attempt, endedAttempt(stop, classification, durationMs), {
    onlyIfNotEnded: true,
  });
  const status = finalStatusFor(classification.outcome);
  const common = {
    outcome: classification.outcome,
    exitCode: classification.exitCode,
    stopCode: stop.stopCode ?? null,
    reason: classification.reason,
    decision: why,
    updatedAt: deps.clock.now().toISOString(),
  };
  const moved = await deps.store.transition(
    stop.runId,
    ['running', 'launching', 'queued', 'retrying'],
    // Not redrivable: the job it would replay is gone.
    { ...common, status, endedAt: stop.stoppedAt, deadLettered: false },
    { attempt: stop.attempt },
  );
  if (!moved) return { status: 'duplicate' };
  await deps.store.releaseSlot(run.job, stop.runId);
  await publish(
    deps,
    { name: run.job },
    { ...run, ...common, status, taskArn: stop.taskArn },
    finalEventType(status),
    { startedAt: stop.startedAt, stoppedAt: stop.stoppedAt, durationMs },
  );
  return { status: 'final', runStatus: status };
}

async function capacityOf(deps: LifecycleDeps, stop: StopReport): Promise<string | null> {
  const attempts = await deps.store.listAttempts(stop.runId);
  return attempts.find((a) => a.attempt === stop.attempt)?.capacity ?? null;
}

/** Builds an outcome event from a run and publishes it. */
export async function publish(
  deps: LifecycleDeps,
  job: Pick<Job, 'name'>,
  run: RunRecord,
  type: EventType,
  extra: Partial<
    Pick<OutcomeDetail, 'startedAt' | 'stoppedAt' | 'durationMs' | 'costUsd' | 'nextAttemptAt' | 'mode'>
  > = {},
): Promise<void> {
  const detail: OutcomeDetail = {
    schemaVersion: 1,
    job: job.name,
    runId: run.runId,
    attempt: run.attempt,
    maxAttempts: run.maxAttempts,
    status: run.status,
    outcome: run.outcome,
    exitCode: run.exitCode,
    stopCode: run.stopCode,
    reason: run.reason,
    decision: run.decision,
    createdAt: run.createdAt,
    startedAt: extra.startedAt ?? null,
    stoppedAt: extra.stoppedAt ?? null,
    durationMs: extra.durationMs ?? null,
    costUsd: extra.costUsd ?? null,
    taskArn: run.taskArn,
    trigger: { kind: run.trigger.kind, summary: summarizeTrigger(run.trigger) },
    nextAttemptAt: extra.nextAttemptAt ?? null,
    // A service worker's run says so by its trigger; callers may also say it outright.
    mode: extra.mode ?? runMode(run),
    environment: deps.environment,
  };
  await deps.events.publish({
    source: EVENT_SOURCE,
    'detail-type': type,
    detail,
    time: deps.clock.now().toISOString(),
  });
}

/**
 * Redrives a dead-lettered run: a new run with its trigger, whose id is derived from the original run alone.
 * However many redrive requests arrive (two in one batch, a retried CLI call), the run table's conditional
 * create lets exactly one replay exist; the others find it as a duplicate.
 */
export async function redriveRun(deps: LifecycleDeps, job: Job, original: RunRecord): Promise<AcceptResult> {
  return acceptTrigger(deps, job, original.trigger, {
    idempotencyKey: redriveIdempotencyKey(job.name, original.runId),
    replayOf: original.runId,
  });
}

/**
 * Starts a new run that replays an earlier one (same trigger payload, attempt numbering from 1).
 * Each replay gets its own idempotency key, so replays are never dropped as duplicates; the new run's
 * `replayOf` names the original.
 */
export async function replayRun(
  deps: LifecycleDeps,
  job: Job,
  original: RunRecord,
  requestId: string,
): Promise<AcceptResult> {
  // The container sees the original trigger unchanged; only the key differs, so the replay is a new run.
  return acceptTrigger(deps, job, original.trigger, {
    idempotencyKey: replayIdempotencyKey(job.name, original.runId, requestId),
    replayOf: original.runId,
  });
}
