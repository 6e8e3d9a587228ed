/**
 * Issue 12, defects 4 and 5: one run's failure never ends a sweep pass; runs of a job that left the stack
 * (removed or renamed) are stopped at the timeout their task carries and ended, by the sweeper and by the
 * interceptor, with a clear reason.
 */
import { DescribeTasksCommand, ECSClient, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BERTH_STOP_REASONS } from '../../src/core/lifecycle/classify.js';
import { DEFAULT_TIMEOUT } from '../../src/core/model/job.js';
import { TIMEOUT_TAG } from '../../src/runtime/aws/ecsTaskLauncher.js';
import { handleTaskStateChange } from '../../src/runtime/aws/interceptor.js';
import { handleLaunchBatch } from '../../src/runtime/aws/launcher.js';
import { createAwsRuntime } from '../../src/runtime/aws/runtime.js';
import { ORPHAN_DEFAULT_TIMEOUT, sweep } from '../../src/runtime/aws/sweeper.js';
import { ORPHAN_REASON } from '../../src/runtime/lifecycle.js';
import type { LaunchMessage } from '../../src/runtime/ports.js';
import { config, fixture, manifest, sqsRecord, stopEvent, thumbnail } from '../runtime/aws/support.js';
import { harness } from './harness.js';

const ecsMock = mockClient(ECSClient);
const TASK = 'arn:aws:ecs:us-east-1:111122223333:task/berth-demo/t1';

function s3Body(job: string, key: string) {
  const s3 = fixture('s3/object-created.json') as { detail: { object: Record<string, unknown> } };
  return {
    type: 's3',
    job,
    event: { ...s3, detail: { ...s3.detail, object: { ...s3.detail.object, key, sequencer: key } } },
  };
}

/** A runtime on the same store, queue, bus and clock as `h`, of a stack where `old-job` no longer is. */
function withoutOldJob(h: ReturnType<typeof harness>) {
  return createAwsRuntime(config, manifest([thumbnail()]), {
    clients: { ecs: h.ecs },
    store: h.store,
    queue: h.queue,
    events: h.events,
    clock: h.clock,
  });
}

describe('a sweep pass isolates failures per run', () => {
  beforeEach(() => ecsMock.reset());

  it('one lost run whose retry cannot be queued is reported; the other is still retried and announced', async () => {
    const j = thumbnail({ timeout: '2h' });
    const h = harness([j]);
    ecsMock
      .on(RunTaskCommand)
      .resolvesOnce({ tasks: [{ taskArn: TASK }] })
      .resolves({ tasks: [{ taskArn: `${TASK}-2` }] });
    await handleLaunchBatch(h.rt, {
      Records: [
        sqsRecord(s3Body(j.name, 'a'), undefined, 'm-1'),
        sqsRecord(s3Body(j.name, 'b'), undefined, 'm-2'),
      ],
    } as SQSEvent);
    const runs = await h.store.listByStatus('running');
    const first = runs.find((r) => r.taskArn === TASK)!;
    const second = runs.find((r) => r.taskArn !== TASK)!;
    // Both tasks are gone; the first run's retry fails to go out (as CreateSchedule did without the grant).
    ecsMock.on(DescribeTasksCommand).resolves({
      failures: [
        { arn: TASK, reason: 'MISSING' },
        { arn: `${TASK}-2`, reason: 'MISSING' },
      ],
    });
    const enqueue = h.queue.enqueue.bind(h.queue);
    h.queue.enqueue = async (m: LaunchMessage, delayMs: number) => {
      if (m.runId === first.runId)
        throw new Error('AccessDeniedException: not authorized to perform scheduler:CreateSchedule');
      return enqueue(m, delayMs);
    };
    h.events.events.length = 0;
    h.clock.advance(11 * 60_000);
    const report = await sweep(h.rt);
    expect(report.errors).toEqual([
      `reconcile ${first.runId} (thumbnail): AccessDeniedException: not authorized to perform scheduler:CreateSchedule`,
    ]);
    expect(report.lost).toEqual([second.runId]);
    expect(
      h.queue.sent.filter((s) => s.message.runId === second.runId && s.message.attempt === 2),
    ).toHaveLength(1);
    expect(
      h.events.events.filter((e) => e.detail.runId === second.runId).map((e) => e['detail-type']),
    ).toEqual(['Job Run Retrying']);
    // The rest of the pass ran too (the slot and outbox sweeps come after the running sweep).
    expect(report).toHaveProperty('slotsReleased');
  });
});

describe('runs of a job that left the stack', () => {
  beforeEach(() => {
    ecsMock.reset();
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }] });
    ecsMock.on(StopTaskCommand).resolves({});
  });

  /** A run of `old-job` launched by the stack that had it, then a runtime of the stack without it. */
  async function orphaned() {
    const old = thumbnail({ name: 'old-job', timeout: '10m' } as never);
    const h = harness([old]);
    await handleLaunchBatch(h.rt, { Records: [sqsRecord(s3Body('old-job', 'x'))] } as SQSEvent);
    const [run] = await h.store.listByStatus('running');
    const tags = ecsMock.commandCalls(RunTaskCommand)[0]!.args[0].input.tags;
    expect(tags).toContainEqual({ key: TIMEOUT_TAG, value: '10m' });
    const after = withoutOldJob(h);
    return { ...h, rt: after, run: run!, tags };
  }

  it('the sweeper stops the task at the timeout it carries, then ends the run with the reason', async () => {
    const h = await orphaned();
    const startedAt = h.clock.now();
    const task = (status: string, extra: Record<string, unknown> = {}) => ({
      taskArn: TASK,
      lastStatus: status,
      startedAt,
      tags: h.tags,
      containers: [{ name: 'main', exitCode: 143 }],
      ...extra,
    });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task('RUNNING')] });
    h.clock.advance(9 * 60_000);
    expect((await sweep(h.rt)).timeoutsStopped).toEqual([]);
    expect(ecsMock.commandCalls(DescribeTasksCommand)[0]!.args[0].input.include).toEqual(['TAGS']);
    h.clock.advance(2 * 60_000);
    expect((await sweep(h.rt)).timeoutsStopped).toEqual([h.run.runId]);
    const stop = ecsMock.commandCalls(StopTaskCommand)[0]!.args[0].input;
    expect(stop.task).toBe(TASK);
    expect(stop.reason).toMatch(
      new RegExp(`^${BERTH_STOP_REASONS.timeout}: ran 660s, limit 10m; job old-job is not in this stack`),
    );
    // The stop event was lost too: once the task is STOPPED past the grace, the sweeper ends the run.
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        task('STOPPED', { stoppedAt: h.clock.now(), stoppedReason: stop.reason, stopCode: 'UserInitiated' }),
      ],
    });
    h.clock.advance(6 * 60_000);
    const report = await sweep(h.rt);
    expect(report.orphansEnded).toEqual([h.run.runId]);
    expect(await h.store.getRun(h.run.runId)).toMatchObject({
      status: 'timed_out',
      decision: ORPHAN_REASON('old-job'),
      deadLettered: false,
    });
    expect(h.events.types().filter((t) => t !== 'Job Run Started')).toEqual(['Job Run Timed Out']);
    expect((await sweep(h.rt)).orphansEnded).toEqual([]);
  });

  it('without the tag (a task from before it), the default timeout applies', async () => {
    expect(ORPHAN_DEFAULT_TIMEOUT).toBe(DEFAULT_TIMEOUT);
    const h = await orphaned();
    ecsMock
      .on(DescribeTasksCommand)
      .resolves({ tasks: [{ taskArn: TASK, lastStatus: 'RUNNING', startedAt: h.clock.now() }] });
    h.clock.advance(59 * 60_000);
    expect((await sweep(h.rt)).timeoutsStopped).toEqual([]);
    h.clock.advance(2 * 60_000);
    expect((await sweep(h.rt)).timeoutsStopped).toEqual([h.run.runId]);
  });

  it('a task that is gone ends the run as lost, without retry', async () => {
    const h = await orphaned();
    ecsMock.on(DescribeTasksCommand).resolves({ failures: [{ arn: TASK, reason: 'MISSING' }] });
    const report = await sweep(h.rt);
    expect(report.orphansEnded).toEqual([h.run.runId]);
    expect(await h.store.getRun(h.run.runId)).toMatchObject({ status: 'failed', outcome: 'lost' });
    expect(h.queue.sent.filter((s) => s.message.attempt > 1)).toEqual([]);
  });

  it('a run still waiting to launch is ended, not re-queued for a launcher that cannot launch it', async () => {
    const old = thumbnail({ name: 'old-job' } as never);
    const h = harness([old]);
    ecsMock.on(RunTaskCommand).resolves({ failures: [{ reason: 'Capacity is unavailable at this time' }] });
    await handleLaunchBatch(h.rt, { Records: [sqsRecord(s3Body('old-job', 'w'))] } as SQSEvent);
    const [run] = await h.store.listByStatus('retrying');
    expect(run).toBeDefined();
    const after = withoutOldJob(h);
    const sent = h.queue.sent.length;
    h.clock.advance(10 * 60_000);
    const report = await sweep(after);
    expect(report.orphansEnded).toEqual([run!.runId]);
    expect(report.requeued).toEqual([]);
    expect(h.queue.sent.length).toBe(sent);
    expect(await h.store.getRun(run!.runId)).toMatchObject({
      status: 'failed',
      decision: ORPHAN_REASON('old-job'),
    });
  });

  it('the interceptor records its stop instead of ignoring it', async () => {
    const h = await orphaned();
    const result = await handleTaskStateChange(h.rt, stopEvent('stopped-exit-0', h.run.runId, 1, TASK));
    expect(result).toMatchObject({
      status: 'recorded',
      runId: h.run.runId,
      attempt: 1,
      outcome: { status: 'final', runStatus: 'succeeded' },
    });
    expect(await h.store.getRun(h.run.runId)).toMatchObject({
      status: 'succeeded',
      decision: ORPHAN_REASON('old-job'),
    });
    const [attempt] = await h.store.listAttempts(h.run.runId);
    expect(attempt).toMatchObject({ status: 'ended', exitCode: 0 });
    expect(h.events.types()).toContain('Job Run Succeeded');
    // The same stop again records nothing more.
    const again = await handleTaskStateChange(h.rt, stopEvent('stopped-exit-0', h.run.runId, 1, TASK));
    expect(again).toMatchObject({ outcome: { status: 'duplicate' } });
  });
});
