/**
 * The sweeper (every minute): what no event will ever fix.
 * 1. Running past the job's timeout → StopTask with `BERTH_STOP_REASONS.timeout`; the stop event then
 *    records `timed_out` and the retry policy decides. The run is also described (as in 2), so a lost stop
 *    event is still reconciled; a failing StopTask is reported and the pass goes on.
 * 2. Running for a while with no stop seen → DescribeTasks: `MISSING` → recordStop as `lost`; a task that
 *    is STOPPED whose event never arrived → recordStop from DescribeTasks.
 * 3. `queued` / `retrying` past their launch time, `launching` for too long → the launch is re-enqueued
 *    (launches are idempotent: stale messages are dropped, the client token blocks a second task).
 * 4. Concurrency slots whose run no longer holds capacity, or held past timeout + grace → released. A slot of
 *    a queued/retrying run is left for its first 2 minutes: its launch may be between acquire and →launching.
 * 5. Final runs whose final event never went out (a crash after the state write) → published again.
 * 6. Runs of a job no longer in the manifest (removed or renamed): stopped once past the timeout their task
 *    carries (`berth:timeout`), ended without retry (`recordOrphanStop`) once the task is stopped or gone, or
 *    at once when they were still waiting to launch.
 * Every run is handled on its own: a failure is reported in `errors` with the run and never ends the pass.
 */
import {
  DescribeTasksCommand,
  type DescribeTasksCommandOutput,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { parseDuration } from '../../core/duration.js';
import { BERTH_STOP_REASONS } from '../../core/lifecycle/classify.js';
import { EVENT_TYPES, finalEventType } from '../../core/lifecycle/events.js';
import { isFinalStatus } from '../../core/lifecycle/states.js';
import { ORPHAN_REASON, publish, recordOrphanStop, recordStop, runMode } from '../lifecycle.js';
import type { RunRecord, StopReport } from '../ports.js';
import { TIMEOUT_TAG } from './ecsTaskLauncher.js';
import type { AwsRuntime } from './runtime.js';
import { type EcsTaskDetail, stopReportFrom } from './taskEvents.js';

export interface SweepOptions {
  /** Ask ECS about runs that have been running this long without a stop. @default 10 minutes */
  reconcileAfterMs?: number;
  /** A STOPPED task whose event has not arrived after this long is recorded from DescribeTasks. @default 5 minutes */
  stoppedGraceMs?: number;
  /** A queued/retrying/launching run this late is re-enqueued. @default 2 minutes */
  stuckAfterMs?: number;
  /** A final event still unconfirmed after this long is published again. @default 2 minutes */
  outboxAfterMs?: number;
  /** Slots held this long past the job timeout are released. @default 15 minutes */
  slotGraceMs?: number;
}

export interface SweepReport {
  timeoutsStopped: string[];
  lost: string[];
  recoveredStops: string[];
  requeued: string[];
  slotsReleased: string[];
  republished: string[];
  /** Runs of a job no longer in the stack, ended because their task stopped or is gone. */
  orphansEnded: string[];
  errors: string[];
}

const DESCRIBE_BATCH = 100;

/** A slot this young may belong to a launch between acquireSlot and its →launching write: leave it. */
const SLOT_SETTLE_MS = 2 * 60_000;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function iso(value: Date | string | undefined): string | undefined {
  if (!value) return undefined;
  return value instanceof Date ? value.toISOString() : value;
}

/** DescribeTasks gives Dates; the event gives ISO strings. */
function detailFromTask(task: Task): EcsTaskDetail {
  return {
    taskArn: task.taskArn ?? '',
    lastStatus: task.lastStatus,
    startedBy: task.startedBy,
    stopCode: task.stopCode,
    stoppedReason: task.stoppedReason,
    startedAt: iso(task.startedAt),
    pullStartedAt: iso(task.pullStartedAt),
    stoppedAt: iso(task.stoppedAt),
    executionStoppedAt: iso(task.executionStoppedAt),
    containers: (task.containers ?? []).map((c) => ({
      name: c.name,
      exitCode: c.exitCode,
      reason: c.reason,
    })),
    version: task.version,
  };
}

export async function sweep(rt: AwsRuntime, options: SweepOptions = {}): Promise<SweepReport> {
  const report: SweepReport = {
    timeoutsStopped: [],
    lost: [],
    recoveredStops: [],
    requeued: [],
    slotsReleased: [],
    republished: [],
    orphansEnded: [],
    errors: [],
  };
  const guard = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      report.errors.push(`${what}: ${errorMessage(error)}`);
    }
  };
  await guard('running', () => sweepRunning(rt, options, report));
  await guard('stuck', () => sweepStuck(rt, options, report));
  await guard('slots', () => sweepSlots(rt, options, report));
  await guard('outbox', () => sweepOutbox(rt, options, report));
  await guard('retry events', () => sweepRetryEvents(rt, options, report));
  return report;
}

/**
 * Runs whose job is not in this stack's manifest any more (removed or renamed): no job to read a timeout or a
 * retry policy from. Their timeout travels on the task (`berth:timeout`, tasks started before that tag fall
 * back to berth's default timeout); the run ends without retry, with this reason.
 */
/** `DEFAULT_TIMEOUT` of core/model/job.ts, for tasks without the tag (not imported: it would bundle zod). */
export const ORPHAN_DEFAULT_TIMEOUT = '1h';

async function sweepRunning(rt: AwsRuntime, options: SweepOptions, report: SweepReport): Promise<void> {
  const now = rt.clock.now();
  const reconcileAfter = options.reconcileAfterMs ?? 10 * 60_000;
  const stoppedGrace = options.stoppedGraceMs ?? 5 * 60_000;
  const running = await rt.store.listByStatus('running');
  const toDescribe: RunRecord[] = [];
  const orphans: RunRecord[] = [];
  for (const run of running) {
    if (!run.taskArn) continue;
    const job = rt.jobs.get(run.job);
    if (!job) {
      orphans.push(run);
      continue;
    }
    // One run's failure (a read, a StopTask ECS refuses) is reported and never ends the pass for the others.
    await perRun(report, run, 'check', async () => {
      const attempts = await rt.store.listAttempts(run.runId);
      const current = attempts.find((a) => a.attempt === run.attempt);
      const since = Date.parse(current?.startedAt ?? current?.launchedAt ?? run.updatedAt);
      const elapsed = now.getTime() - since;
      const timeoutMs = parseDuration(job.timeout);
      // A service worker's run is open only while its stop is being recorded: reconcile it, never time it out.
      if (elapsed > timeoutMs && runMode(run) === 'task') {
        await perRun(report, run, 'stop', async () => {
          await stopTask(
            rt,
            run.taskArn as string,
            `${BERTH_STOP_REASONS.timeout}: ran ${Math.round(elapsed / 1000)}s, limit ${job.timeout}`,
          );
          report.timeoutsStopped.push(run.runId);
        });
        // Also ask ECS about it: if the stop event is lost, the run is still reconciled (STOPPED or MISSING),
        // whatever the job's timeout is next to reconcileAfter.
        toDescribe.push(run);
      } else if (elapsed > reconcileAfter) {
        toDescribe.push(run);
      }
    });
  }
  for (let i = 0; i < toDescribe.length; i += DESCRIBE_BATCH) {
    const batch = toDescribe.slice(i, i + DESCRIBE_BATCH);
    const out = await describe(rt, batch, report);
    if (!out) continue;
    for (const run of batch) {
      const job = rt.jobs.get(run.job);
      if (!job || !run.taskArn) continue;
      await perRun(report, run, 'reconcile', async () => {
        const container = rt.manifest.tasks[job.name]?.containerName;
        if (out.missing.has(run.taskArn as string)) {
          const outcome = await recordStop(rt.deps, job, missingStop(run, now));
          if (outcome.status !== 'duplicate') report.lost.push(run.runId);
          return;
        }
        const task = out.tasks.find((t) => t.taskArn === run.taskArn);
        if (task?.lastStatus !== 'STOPPED') return;
        const stoppedAt = task.stoppedAt ? task.stoppedAt.getTime() : now.getTime();
        if (now.getTime() - stoppedAt < stoppedGrace) return;
        const outcome = await recordStop(
          rt.deps,
          job,
          stopReportFrom(detailFromTask(task), run.runId, run.attempt, container, now.toISOString()),
        );
        if (outcome.status !== 'duplicate') report.recoveredStops.push(run.runId);
      });
    }
  }
  await sweepOrphans(rt, orphans, options, report);
}

/**
 * Runs of a job that left the stack: stopped once past the timeout their task carries, and ended (without
 * retry, with `ORPHAN_REASON`) once their task is stopped or gone. Every one is described on every pass: they
 * are rare, and nothing else watches them.
 */
async function sweepOrphans(
  rt: AwsRuntime,
  orphans: RunRecord[],
  options: SweepOptions,
  report: SweepReport,
): Promise<void> {
  const now = rt.clock.now();
  const stoppedGrace = options.stoppedGraceMs ?? 5 * 60_000;
  for (let i = 0; i < orphans.length; i += DESCRIBE_BATCH) {
    const batch = orphans.slice(i, i + DESCRIBE_BATCH);
    const out = await describe(rt, batch, report);
    if (!out) continue;
    for (const run of batch) {
      await perRun(report, run, 'orphan', async () => {
        const why = ORPHAN_REASON(run.job);
        if (out.missing.has(run.taskArn as string)) {
          const outcome = await recordOrphanStop(rt.deps, missingStop(run, now), why);
          if (outcome.status !== 'duplicate') report.orphansEnded.push(run.runId);
          return;
        }
        const task = out.tasks.find((t) => t.taskArn === run.taskArn);
        if (!task) return;
        if (task.lastStatus === 'STOPPED') {
          const stoppedAt = task.stoppedAt ? task.stoppedAt.getTime() : now.getTime();
          if (now.getTime() - stoppedAt < stoppedGrace) return;
          const stop = stopReportFrom(
            detailFromTask(task),
            run.runId,
            run.attempt,
            undefined,
            now.toISOString(),
          );
          const outcome = await recordOrphanStop(rt.deps, stop, why);
          if (outcome.status !== 'duplicate') report.orphansEnded.push(run.runId);
          return;
        }
        // A service worker's run stands for a task its ECS service owns: never stopped here.
        if (runMode(run) !== 'task') return;
        const timeout = task.tags?.find((t) => t.key === TIMEOUT_TAG)?.value ?? ORPHAN_DEFAULT_TIMEOUT;
        const since = (task.startedAt ?? task.createdAt)?.getTime() ?? Date.parse(run.updatedAt);
        const elapsed = now.getTime() - since;
        if (elapsed <= parseDuration(timeout)) return;
        await stopTask(
          rt,
          run.taskArn as string,
          `${BERTH_STOP_REASONS.timeout}: ran ${Math.round(elapsed / 1000)}s, limit ${timeout}; ${why}`,
        );
        report.timeoutsStopped.push(run.runId);
      });
    }
  }
}

/** A run's work in a pass: a failure is reported with the run and never ends the pass. */
async function perRun(
  report: SweepReport,
  run: RunRecord,
  what: string,
  fn: () => Promise<void>,
): Promise<void> {
  try {
    await fn();
  } catch (error) {
    report.errors.push(`${what} ${run.runId} (${run.job}): ${errorMessage(error)}`);
  }
}

async function stopTask(rt: AwsRuntime, task: string, reason: string): Promise<void> {
  await rt.ecs.send(new StopTaskCommand({ cluster: rt.config.cluster, task, reason: reason.slice(0, 255) }));
}

/** DescribeTasks for a batch (with tags); undefined (reported) when the call fails. */
async function describe(
  rt: AwsRuntime,
  batch: RunRecord[],
  report: SweepReport,
): Promise<{ tasks: Task[]; missing: Set<string | undefined> } | undefined> {
  let out: DescribeTasksCommandOutput;
  try {
    out = await rt.ecs.send(
      new DescribeTasksCommand({
        cluster: rt.config.cluster,
        tasks: batch.map((r) => r.taskArn as string),
        include: ['TAGS'],
      }),
    );
  } catch (error) {
    report.errors.push(`describe ${batch.length} tasks: ${errorMessage(error)}`);
    return undefined;
  }
  return {
    tasks: out.tasks ?? [],
    missing: new Set((out.failures ?? []).filter((f) => f.reason === 'MISSING').map((f) => f.arn)),
  };
}

function missingStop(run: RunRecord, now: Date): StopReport {
  return {
    runId: run.runId,
    attempt: run.attempt,
    taskArn: run.taskArn,
    startedAt: null,
    stoppedAt: now.toISOString(),
    containers: [],
    missing: true,
    stoppedReason: 'DescribeTasks: MISSING',
  };
}

async function sweepStuck(rt: AwsRuntime, options: SweepOptions, report: SweepReport): Promise<void> {
  const now = rt.clock.now();
  const before = new Date(now.getTime() - (options.stuckAfterMs ?? 2 * 60_000));
  for (const status of ['queued', 'retrying', 'launching'] as const) {
    for (const run of await rt.store.listByStatus(status, { before })) {
      // A run waiting for its (delayed) launch message is not stuck until that message is overdue.
      if (run.nextAttemptAt && Date.parse(run.nextAttemptAt) > before.getTime()) continue;
      if (!rt.jobs.has(run.job) && status !== 'launching') {
        // Waiting to launch a job that left the stack: no task to stop, nothing to launch; end it.
        await perRun(report, run, 'orphan', async () => {
          const outcome = await recordOrphanStop(
            rt.deps,
            {
              runId: run.runId,
              attempt: run.attempt,
              taskArn: null,
              startedAt: null,
              stoppedAt: now.toISOString(),
              containers: [],
              launchFailed: true,
              stoppedReason: `not launched: ${ORPHAN_REASON(run.job)}`,
            },
            ORPHAN_REASON(run.job),
          );
          if (outcome.status !== 'duplicate') report.orphansEnded.push(run.runId);
        });
        continue;
      }
      await perRun(report, run, 'requeue', async () => {
        await rt.queue.enqueue({ type: 'launch', job: run.job, runId: run.runId, attempt: run.attempt }, 0);
        report.requeued.push(run.runId);
      });
    }
  }
}

async function sweepSlots(rt: AwsRuntime, options: SweepOptions, report: SweepReport): Promise<void> {
  const now = rt.clock.now().getTime();
  for (const job of rt.jobs.values()) {
    if (job.maxConcurrency === undefined && job.overlap === 'allow') continue;
    const limit = parseDuration(job.timeout) + (options.slotGraceMs ?? 15 * 60_000);
    for (const slot of await rt.store.listSlots(job.name)) {
      await perRun(report, { runId: slot.runId, job: job.name } as RunRecord, 'slot', async () => {
        const run = await rt.store.getRun(slot.runId);
        const age = now - Date.parse(slot.acquiredAt);
        // queued/retrying: the launch was put back (it releases its slot itself) or has not moved on yet.
        const waiting = run?.status === 'queued' || run?.status === 'retrying';
        if (waiting && age < SLOT_SETTLE_MS) return;
        const holds = run && !isFinalStatus(run.status) && !waiting;
        if (holds && age <= limit) return;
        await rt.store.releaseSlot(job.name, slot.runId);
        report.slotsReleased.push(slot.runId);
      });
    }
  }
}

async function sweepOutbox(rt: AwsRuntime, options: SweepOptions, report: SweepReport): Promise<void> {
  const before = new Date(rt.clock.now().getTime() - (options.outboxAfterMs ?? 2 * 60_000));
  for (const run of await rt.store.listUnpublishedFinalRuns(before)) {
    // An orphaned run's event goes out too: publishing needs only the job's name.
    const status = run.status;
    if (!isFinalStatus(status)) continue;
    await perRun(report, run, 'republish', async () => {
      const attempt = (await rt.store.listAttempts(run.runId)).find((a) => a.attempt === run.attempt);
      await publish(rt.deps, { name: run.job }, run, finalEventType(status), {
        startedAt: attempt?.startedAt ?? null,
        stoppedAt: attempt?.stoppedAt ?? run.endedAt,
        durationMs: attempt?.durationMs ?? null,
        costUsd: attempt?.costUsd ?? null,
      });
      report.republished.push(run.runId);
    });
  }
}

/**
 * `Retrying` events whose outbox entry is still open (the retry's SendMessage or the publish failed, and the
 * redelivered stop was a duplicate): published from the entry, which keeps what the event says about the
 * stopped attempt whatever the run did since. The publisher closes the entry.
 */
async function sweepRetryEvents(rt: AwsRuntime, options: SweepOptions, report: SweepReport): Promise<void> {
  const before = new Date(rt.clock.now().getTime() - (options.outboxAfterMs ?? 2 * 60_000));
  for (const entry of await rt.store.listUnpublishedRetryEvents(before)) {
    const run = await rt.store.getRun(entry.runId);
    const job = run && rt.jobs.get(run.job);
    if (!run || !job) {
      // Nothing to build the event from (the run expired, the job left the stack): close the entry.
      await rt.store.markRetryEventPublished(entry.runId, entry.attempt);
      continue;
    }
    const attempt = (await rt.store.listAttempts(run.runId)).find((a) => a.attempt === entry.attempt);
    const { runId: _r, attempt: _a, nextAttemptAt, updatedAt: _u, ...fields } = entry;
    await publish(
      rt.deps,
      job,
      { ...run, ...fields, attempt: entry.attempt, status: 'retrying', taskArn: attempt?.taskArn ?? null },
      EVENT_TYPES.retrying,
      {
        startedAt: attempt?.startedAt ?? null,
        stoppedAt: attempt?.stoppedAt ?? null,
        durationMs: attempt?.durationMs ?? null,
        costUsd: attempt?.costUsd ?? null,
        nextAttemptAt,
      },
    );
    report.republished.push(run.runId);
  }
}
