/**
 * The launcher: SQS batches (the shared launch queue and queue jobs' own queues) → runs → RunTask.
 *
 * A launch that must wait (ECS throttling, the job's concurrency cap, a schedule's overlap queue) is put back
 * on the launch queue as a `launch` message with a delay, and the record is reported processed. Failing
 * the record instead would bring it back only after the visibility timeout and count every wait toward
 * the dead-letter `maxReceiveCount`, so a long throttling storm would dead-letter healthy triggers. If that
 * re-enqueue itself fails, the record fails and SQS redelivers it: the run exists already, so the repeat
 * finds it `queued` and launches it. Nothing is dropped either way.
 *
 * A record that fails is logged (one JSON line: job, message id, receive count, reason) before SQS takes it
 * back, so a message that ends in the dead-letter queue after its tenth receive has said ten times why.
 */
import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { replayIdempotencyKey } from '../../core/lifecycle/idempotency.js';
import { isFinalStatus } from '../../core/lifecycle/states.js';
import type { TriggerPayload } from '../../core/lifecycle/trigger.js';
import type { Job } from '../../core/model/job.js';
import { acceptTrigger, type LaunchOutcome, launchAttempt, redriveRun } from '../lifecycle.js';
import type { LaunchMessage } from '../ports.js';
import { MessageError, queueNameFromArn, toWork, type Work } from './messages.js';
import type { AwsRuntime } from './runtime.js';

export type RecordResult =
  | { status: 'accepted' | 'duplicate'; runId: string; launch?: LaunchOutcome }
  | { status: 'skipped'; reason: string }
  | { status: 'launch'; runId: string; launch: LaunchOutcome }
  | { status: 'redriven'; runId: string; newRunId?: string }
  | { status: 'ignored'; reason: string };

/**
 * Launches one message's attempt now; a `later` outcome goes back on the queue with its delay, counting one
 * more throttle when ECS throttled the call (the next back-off grows with that count).
 */
async function launchNow(rt: AwsRuntime, message: LaunchMessage): Promise<LaunchOutcome> {
  const job = rt.jobs.get(message.job);
  if (!job) throw new MessageError(`job ${message.job} is not in this stack's manifest`);
  const outcome = await launchAttempt(rt.deps, job, message.runId, message.attempt, {
    throttles: message.throttles ?? 0,
  });
  if (outcome.status === 'later') {
    const throttles = (message.throttles ?? 0) + (outcome.throttled ? 1 : 0);
    await rt.queue.enqueue(
      {
        type: 'launch',
        job: message.job,
        runId: message.runId,
        attempt: message.attempt,
        ...(throttles ? { throttles } : {}),
      },
      outcome.delayMs,
    );
    await noteWaiting(rt, message, outcome.delayMs);
  }
  return outcome;
}

/**
 * Marks a waiting run as recently handled (`updatedAt`, `nextAttemptAt`), so the sweeper, which re-enqueues
 * runs stuck in `queued`/`retrying`, does not add a second message for a run whose message is circulating.
 */
async function noteWaiting(rt: AwsRuntime, message: LaunchMessage, delayMs: number): Promise<void> {
  const run = await rt.store.getRun(message.runId);
  if (!run || run.attempt !== message.attempt || (run.status !== 'queued' && run.status !== 'retrying'))
    return;
  const now = rt.clock.now();
  await rt.store.transition(
    run.runId,
    [run.status],
    {
      status: run.status,
      updatedAt: now.toISOString(),
      nextAttemptAt: new Date(now.getTime() + delayMs).toISOString(),
    },
    { attempt: run.attempt },
  );
}

/**
 * Accepts a trigger through a queue that captures the first launch instead of sending it, then launches in
 * this invocation: one hop less than going through the launch queue.
 */
async function acceptNow(
  rt: AwsRuntime,
  job: Job,
  trigger: TriggerPayload,
  options: { idempotencyKey?: string; replayOf?: string },
): Promise<RecordResult> {
  const captured: LaunchMessage[] = [];
  const accepted = await acceptTrigger(
    { ...rt.deps, queue: { enqueue: async (m) => void captured.push(m) } },
    job,
    trigger,
    options,
  );
  if (accepted.status === 'skipped') return accepted;
  if (accepted.status === 'duplicate') {
    // A duplicate whose run is still queued: its first delivery may be launching right now (a batch runs
    // its records concurrently), or may have crashed. Queue the launch rather than race it; a launch
    // message for a run that moved on is dropped as stale.
    for (const m of captured) await rt.queue.enqueue(m, 0);
    return { status: 'duplicate', runId: accepted.runId };
  }
  const first = captured[0];
  const launch = first ? await launchNow(rt, first) : undefined;
  return { status: accepted.status, runId: accepted.runId, ...(launch ? { launch } : {}) };
}

/** Does the work of one record. Throws when the record must come back (SQS redelivers it). */
export async function processWork(rt: AwsRuntime, work: Work): Promise<RecordResult> {
  const job = rt.jobs.get(work.job);
  if (!job)
    throw new MessageError(`job ${work.job} is not in this stack's manifest — redeploy or drop the message`);
  switch (work.kind) {
    case 'accept':
      return acceptNow(
        rt,
        job,
        work.trigger,
        work.idempotencyKey ? { idempotencyKey: work.idempotencyKey } : {},
      );
    case 'replay': {
      const run = await rt.store.getRun(work.runId);
      if (!run || run.job !== work.job)
        return { status: 'ignored', reason: `run ${work.runId} of ${work.job} not found` };
      // Same trigger, a key of its own: each replay request is one new run, a repeated message is not.
      return acceptNow(rt, job, run.trigger, {
        idempotencyKey: replayIdempotencyKey(job.name, run.runId, work.requestId),
        replayOf: run.runId,
      });
    }
    case 'launch':
      return {
        status: 'launch',
        runId: work.runId,
        launch: await launchNow(rt, {
          type: 'launch',
          job: work.job,
          runId: work.runId,
          attempt: work.attempt,
          ...(work.throttles ? { throttles: work.throttles } : {}),
        }),
      };
    case 'redrive': {
      const run = await rt.store.getRun(work.runId);
      if (!run || run.job !== work.job)
        return { status: 'ignored', reason: `run ${work.runId} of ${work.job} not found` };
      if (!isFinalStatus(run.status) || !run.deadLettered)
        return { status: 'ignored', reason: `run ${work.runId} is ${run.status}, not dead-lettered` };
      // The replay's id comes from the run alone: two redrive requests in one batch make one replay.
      const replay = await redriveRun(rt.deps, job, run);
      if (replay.status === 'skipped') return { status: 'ignored', reason: replay.reason };
      await rt.store.transition(run.runId, [run.status], {
        status: run.status,
        deadLettered: false,
        decision: `${run.decision ?? ''}${run.decision ? '; ' : ''}redriven as ${replay.runId}`,
        updatedAt: rt.clock.now().toISOString(),
      });
      // The transition re-opened the outbox mark; the final event was published long ago.
      await rt.store.markEventPublished(run.runId);
      return { status: 'redriven', runId: run.runId, newRunId: replay.runId };
    }
    default: {
      const never: never = work;
      throw new Error(`unhandled work ${JSON.stringify(never)}`);
    }
  }
}

export async function processRecord(rt: AwsRuntime, record: SQSRecord): Promise<RecordResult> {
  return processWork(rt, toWork(record, rt.manifest));
}

/** Lambda entry: an SQS batch in, partial batch failures out (needs `ReportBatchItemFailures` on the ESM). */
export async function handleLaunchBatch(
  rt: AwsRuntime,
  event: SQSEvent,
  context?: Context,
): Promise<SQSBatchResponse> {
  const fifo = event.Records[0]?.eventSourceARN.endsWith('.fifo') ?? false;
  // FIFO: stop at the first failure so a message group keeps its order (Powertools fails the rest).
  const processor = fifo ? new SqsFifoPartialProcessorAsync() : new BatchProcessor(EventType.SQS);
  const handle = async (record: SQSRecord) => {
    try {
      return await processRecord(rt, record);
    } catch (error) {
      logRecordFailure(rt, record, error);
      throw error;
    }
  };
  return processPartialResponse(event, handle, processor, { ...(context ? { context } : {}) });
}

/** The job a record is for, as far as it can be told (a queue job's queue, else the body's `job`). */
function jobOfRecord(rt: AwsRuntime, record: SQSRecord): string | null {
  const queueJob = rt.manifest.queues[queueNameFromArn(record.eventSourceARN ?? '')];
  if (queueJob) return queueJob;
  try {
    const body = JSON.parse(record.body) as { job?: unknown };
    return typeof body?.job === 'string' ? body.job : null;
  } catch {
    return null;
  }
}

/** One JSON line per failed record: CloudWatch Logs Insights can group dead-letter causes by job and reason. */
export function logRecordFailure(rt: AwsRuntime, record: SQSRecord, error: unknown): void {
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount);
  console.error(
    JSON.stringify({
      level: 'ERROR',
      msg: 'launch record failed; SQS will deliver it again (then to the dead-letter queue)',
      job: jobOfRecord(rt, record),
      messageId: record.messageId,
      queue: queueNameFromArn(record.eventSourceARN ?? ''),
      receiveCount: Number.isFinite(receiveCount) ? receiveCount : null,
      error: (error as { name?: string } | null)?.name ?? 'Error',
      reason: error instanceof Error ? error.message : String(error),
    }),
  );
}
