import { DescribeTasksCommand, ECSClient, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BERTH_STOP_REASONS } from '../../src/core/lifecycle/classify.js';
import { handleLaunchBatch } from '../../src/runtime/aws/launcher.js';
import { sweep } from '../../src/runtime/aws/sweeper.js';
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

  it('releases a slot whose run no longer holds capacity', async () => {
    const capped = job({ name: 'capped', task: { image: 'node:22' }, maxConcurrency: 2 });
    const h = harness([capped]);
    await h.store.acquireSlot('capped', 'r-gone', 2);
    const report = await sweep(h.rt);
    expect(report.slotsReleased).toEqual(['r-gone']);
    expect(await h.store.listSlots('capped')).toEqual([]);
  });
});
