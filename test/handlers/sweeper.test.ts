import { DescribeTasksCommand, ECSClient, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BERTH_STOP_REASONS } from '../../src/core/lifecycle/classify.js';
import { handleLaunchBatch } from '../../src/runtime/aws/launcher.js';
import { sweep } from '../../src/runtime/aws/sweeper.js';
import { newRunRecord } from '../../src/runtime/lifecycle.js';
import { fixture, job, sqsRecord, thumbnail } from '../runtime/aws/support.js';
import { harness } from './harness.js';

const ecsMock = mockClient(ECSClient);
const TASK = 'arn:aws:ecs:us-east-1:111122223333:task/berth-demo/t1';

async function launched(j = thumbnail({ timeout: '10m' })) {
  const h = harness([j]);
  const body = { type: 's3', job: j.name, event: fixture('s3/object-created.json') };
  await handleLaunchBatch(h.rt, { Records: [sqsRecord(body)] } as SQSEvent);
  const [run] = await h.store.listRuns({});
  return { ...h, runId: run!.runId };
}

describe('sweeper', () => {
  beforeEach(() => {
    ecsMock.reset();
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }] });
    ecsMock.on(StopTaskCommand).resolves({});
  });

  it('stops a task past its job timeout with berth’s timeout reason', async () => {
    const h = await launched();
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: TASK, lastStatus: 'RUNNING' }] });
    h.clock.advance(9 * 60_000);
    expect((await sweep(h.rt)).timeoutsStopped).toEqual([]);
    h.clock.advance(2 * 60_000);
    expect((await sweep(h.rt)).timeoutsStopped).toEqual([h.runId]);
    const input = ecsMock.commandCalls(StopTaskCommand)[0]!.args[0].input;
    expect(input.task).toBe(TASK);
    expect(input.cluster).toBe('berth-demo');
    expect(input.reason?.startsWith(BERTH_STOP_REASONS.timeout)).toBe(true);
  });

  it('records a task DescribeTasks calls MISSING as lost, and retries it', async () => {
    const h = await launched(thumbnail({ timeout: '2h' }));
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [], failures: [{ arn: TASK, reason: 'MISSING' }] });
    h.clock.advance(11 * 60_000);
    const report = await sweep(h.rt);
    expect(report.lost).toEqual([h.runId]);
    expect(ecsMock.commandCalls(DescribeTasksCommand)[0]!.args[0].input.tasks).toEqual([TASK]);
    const [attempt] = await h.store.listAttempts(h.runId);
    expect(attempt?.outcome).toBe('lost');
    expect((await h.store.getRun(h.runId))?.status).toBe('retrying');
  });

  it('records a stopped task whose event never came, from DescribeTasks', async () => {
    const h = await launched(thumbnail({ timeout: '2h' }));
    h.clock.advance(20 * 60_000);
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: TASK,
          lastStatus: 'STOPPED',
          stopCode: 'EssentialContainerExited',
          startedAt: new Date('2026-03-01T10:01:00Z'),
          stoppedAt: new Date('2026-03-01T10:05:00Z'),
          containers: [{ name: 'main', exitCode: 0 }],
        },
      ],
    });
    expect((await sweep(h.rt)).recoveredStops).toEqual([h.runId]);
    expect((await h.store.getRun(h.runId))?.status).toBe('succeeded');
  });

  it('keeps going when one timed-out run’s StopTask throws, and reconciles the run it could not stop', async () => {
    const j = thumbnail({ timeout: '5m' });
    const h = harness([j]);
    const t2 = `${TASK}-2`;
    ecsMock
      .on(RunTaskCommand)
      .resolvesOnce({ tasks: [{ taskArn: TASK }] })
      .resolves({ tasks: [{ taskArn: t2 }] });
    const s3 = fixture('s3/object-created.json') as { detail: { object: Record<string, unknown> } };
    const other = {
      ...s3,
      detail: { ...s3.detail, object: { ...s3.detail.object, key: 'other-key', sequencer: '1' } },
    };
    await handleLaunchBatch(h.rt, {
      Records: [
        sqsRecord({ type: 's3', job: j.name, event: s3 }, undefined, 'm-1'),
        sqsRecord({ type: 's3', job: j.name, event: other }, undefined, 'm-2'),
      ],
    } as SQSEvent);
    const runs = await h.store.listByStatus('running');
    expect(runs.map((r) => r.taskArn).sort()).toEqual([TASK, t2]);
    const forgotten = runs.find((r) => r.taskArn === TASK)!;
    const alive = runs.find((r) => r.taskArn === t2)!;
    // An hour on, ECS has forgotten the first task: StopTask throws and DescribeTasks calls it MISSING.
    ecsMock.on(StopTaskCommand, { task: TASK }).rejects(new Error('The referenced task was not found.'));
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [{ taskArn: t2, lastStatus: 'RUNNING' }],
      failures: [{ arn: TASK, reason: 'MISSING' }],
    });
    h.clock.advance(60 * 60_000);
    const report = await sweep(h.rt);
    expect(report.timeoutsStopped).toEqual([alive.runId]);
    expect(report.errors).toEqual([
      `stop ${forgotten.runId} (thumbnail): The referenced task was not found.`,
    ]);
    expect(ecsMock.commandCalls(StopTaskCommand).map((c) => c.args[0].input.task)).toEqual([TASK, t2]);
    expect(report.lost).toEqual([forgotten.runId]);
    expect((await h.store.listAttempts(forgotten.runId))[0]?.outcome).toBe('lost');
    expect((await h.store.getRun(forgotten.runId))?.status).not.toBe('running');
    expect((await h.store.getRun(alive.runId))?.status).toBe('running');
  });

  it('reconciles a timed-out run whose stop event was lost, though its timeout is under reconcileAfter', async () => {
    const h = await launched(thumbnail({ timeout: '2m' }));
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: TASK, lastStatus: 'STOPPING' }] });
    h.clock.advance(3 * 60_000);
    const first = await sweep(h.rt);
    expect(first.timeoutsStopped).toEqual([h.runId]);
    expect(ecsMock.commandCalls(DescribeTasksCommand)[0]!.args[0].input.tasks).toEqual([TASK]);
    expect((await h.store.getRun(h.runId))?.status).toBe('running');
    // The task stopped on berth's StopTask, but its event never arrived.
    const stopReason = ecsMock.commandCalls(StopTaskCommand)[0]!.args[0].input.reason;
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: TASK,
          lastStatus: 'STOPPED',
          stopCode: 'UserInitiated',
          stoppedReason: stopReason,
          startedAt: new Date('2026-03-01T10:00:30Z'),
          stoppedAt: new Date('2026-03-01T10:03:10Z'),
          containers: [{ name: 'main', exitCode: 137 }],
        },
      ],
    });
    h.clock.advance(6 * 60_000);
    const later = await sweep(h.rt);
    expect(later.recoveredStops).toEqual([h.runId]);
    expect((await h.store.listAttempts(h.runId))[0]?.outcome).toBe('timed_out');
    expect((await h.store.getRun(h.runId))?.status).not.toBe('running');
  });

  it('re-enqueues a run stuck in queued, but not one whose delayed launch is pending', async () => {
    const h = harness([thumbnail()]);
    ecsMock
      .on(RunTaskCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await handleLaunchBatch(h.rt, {
      Records: [sqsRecord({ type: 's3', job: 'thumbnail', event: fixture('s3/object-created.json') })],
    } as SQSEvent);
    h.queue.sent.length = 0;
    expect((await sweep(h.rt)).requeued).toEqual([]);
    h.clock.advance(5 * 60_000);
    const [run] = await h.store.listRuns({});
    expect((await sweep(h.rt)).requeued).toEqual([run!.runId]);
    expect(h.queue.sent[0]!.message).toEqual({
      type: 'launch',
      job: 'thumbnail',
      runId: run!.runId,
      attempt: 1,
    });
  });

  it('leaves a queued run’s slot for its first 2 minutes (acquired, not yet launching), then frees it', async () => {
    const capped = job({ name: 'capped', task: { image: 'node:22' }, maxConcurrency: 1 });
    const h = harness([capped]);
    await h.store.createRun(
      newRunRecord({
        runId: 'r-between',
        job: 'capped',
        status: 'queued',
        maxAttempts: 1,
        trigger: { kind: 'manual', requestId: 'req-between' },
        idempotencyKey: 'k-between',
        createdAt: h.clock.now().toISOString(),
      }),
    );
    await h.store.acquireSlot('capped', 'r-between', 1);
    h.clock.advance(60_000);
    expect((await sweep(h.rt)).slotsReleased).toEqual([]);
    expect(await h.store.acquireSlot('capped', 'r-other', 1)).toBe(false);
    h.clock.advance(90_000);
    expect((await sweep(h.rt)).slotsReleased).toEqual(['r-between']);
    expect(await h.store.acquireSlot('capped', 'r-other', 1)).toBe(true);
  });

  it('releases a slot whose run no longer holds capacity', async () => {
    const capped = job({ name: 'capped', task: { image: 'node:22' }, maxConcurrency: 2 });
    const h = harness([capped]);
    await h.store.acquireSlot('capped', 'r-gone', 2);
    const report = await sweep(h.rt);
    expect(report.slotsReleased).toEqual(['r-gone']);
    expect(await h.store.listSlots('capped')).toEqual([]);
  });
});
