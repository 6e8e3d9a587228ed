import { DescribeTasksCommand, ECSClient, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleTaskStateChange } from '../../src/runtime/aws/interceptor.js';
import { handleLaunchBatch } from '../../src/runtime/aws/launcher.js';
import { sweep } from '../../src/runtime/aws/sweeper.js';
import { fixture, sqsRecord, stopEvent, thumbnail } from '../runtime/aws/support.js';
import { harness } from './harness.js';

const ecsMock = mockClient(ECSClient);
const TASK = 'arn:aws:ecs:us-east-1:111122223333:task/berth-demo/5f0c8e1d9a2b4c3d8e7f6a5b4c3d2e1f';

async function launched(jobOverrides = {}) {
  const h = harness([thumbnail(jobOverrides)]);
  const body = { type: 's3', job: 'thumbnail', event: fixture('s3/object-created.json') };
  await handleLaunchBatch(h.rt, { Records: [sqsRecord(body)] } as SQSEvent);
  const [run] = await h.store.listRuns({});
  return { ...h, runId: run!.runId };
}

describe('interceptor', () => {
  beforeEach(() => {
    ecsMock.reset();
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }] });
  });

  it.each([
    ['stopped-exit-1', 'app_error', 1],
    ['stopped-essential-container-exited', 'app_error', 2],
    ['stopped-oom-137', 'oom', 137],
    ['stopped-cannot-pull', 'start_failure', null],
    ['stopped-resource-init', 'start_failure', null],
    ['stopped-spot-interruption', 'spot_interrupted', 143],
    ['stopped-user-initiated', 'cancelled', 143],
    ['stopped-timeout', 'timed_out', 143],
    ['stopped-exit-0', 'succeeded', 0],
  ])('records %s as %s', async (name, outcome, exitCode) => {
    const h = await launched();
    const result = await handleTaskStateChange(h.rt, stopEvent(name, h.runId, 1, TASK));
    expect(result.status).toBe('recorded');
    const [attempt] = await h.store.listAttempts(h.runId);
    expect(attempt).toMatchObject({ status: 'ended', outcome, exitCode, taskArn: TASK });
    expect(attempt!.stoppedAt).toBe('2026-03-01T10:15:41.300Z');
    if (name !== 'stopped-cannot-pull' && name !== 'stopped-resource-init') {
      expect(attempt!.durationMs).toBe(
        Date.parse('2026-03-01T10:15:41.300Z') - Date.parse('2026-03-01T10:12:35.002Z'),
      );
      expect(attempt!.costUsd).toBeGreaterThan(0);
    }
  });

  it('retries per policy: the resource-init failure retries, the missing image does not', async () => {
    const a = await launched();
    await handleTaskStateChange(a.rt, stopEvent('stopped-resource-init', a.runId, 1, TASK));
    expect((await a.store.getRun(a.runId))?.status).toBe('retrying');
    expect(a.queue.sent.map((s) => s.message.attempt)).toEqual([2]);
    const b = await launched();
    await handleTaskStateChange(b.rt, stopEvent('stopped-cannot-pull', b.runId, 1, TASK));
    expect((await b.store.getRun(b.runId))?.status).toBe('failed');
    expect(b.events.types()).toEqual(['Job Run Started', 'Job Run Failed']);
  });

  it('ignores tasks berth did not start', async () => {
    const h = await launched();
    const result = await handleTaskStateChange(h.rt, fixture('ecs/stopped-not-berth.json'));
    expect(result).toMatchObject({ status: 'ignored' });
    expect((await h.store.getRun(h.runId))?.status).toBe('running');
  });

  it('treats only STOPPED as terminal and drops versions older than one seen', async () => {
    const h = await launched();
    const running = fixture<{ detail: { startedBy: string } }>('ecs/running.json');
    running.detail.startedBy = `berth/${h.runId}`;
    expect(await handleTaskStateChange(h.rt, running)).toEqual({
      status: 'not-terminal',
      lastStatus: 'RUNNING',
    });
    const stop = stopEvent('stopped-exit-0', h.runId, 1, TASK);
    await handleTaskStateChange(h.rt, stop);
    // The RUNNING event (version 4) arriving after the STOPPED one (version 6) is stale.
    expect(await handleTaskStateChange(h.rt, running)).toEqual({ status: 'stale', version: 4 });
    expect((await h.store.getRun(h.runId))?.status).toBe('succeeded');
  });

  it('the same stop three times gives one retry and one Retrying event', async () => {
    const h = await launched();
    const stop = stopEvent('stopped-exit-1', h.runId, 1, TASK);
    const results = await Promise.all(
      [1, 2, 3].map(() => handleTaskStateChange(h.rt, structuredClone(stop))),
    );
    expect(results.filter((r) => r.status === 'recorded' && r.outcome.status === 'retrying')).toHaveLength(1);
    expect(h.queue.sent).toHaveLength(1);
    expect(h.events.types()).toEqual(['Job Run Started', 'Job Run Retrying']);
  });

  it('publishes exactly one final event for a run however often its last stop arrives', async () => {
    const h = await launched({ retry: { maxAttempts: 1 } });
    const stop = stopEvent('stopped-exit-1', h.runId, 1, TASK);
    for (let i = 0; i < 3; i++) await handleTaskStateChange(h.rt, structuredClone(stop));
    expect(h.events.types()).toEqual(['Job Run Started', 'Job Run Failed']);
    expect((await h.store.getRun(h.runId))?.deadLettered).toBe(true);
  });

  it('finishes a stop whose run write was interrupted, when the event is redelivered', async () => {
    const h = await launched();
    const stop = stopEvent('stopped-exit-1', h.runId, 1, TASK);
    // Simulate a crash: the attempt was recorded as ended, the run never moved.
    await h.store.updateAttempt(h.runId, 1, { status: 'ended' });
    const result = await handleTaskStateChange(h.rt, stop);
    expect(result).toMatchObject({ status: 'recorded', outcome: { status: 'retrying' } });
    expect((await h.store.getRun(h.runId))?.status).toBe('retrying');
  });

  it('republishes a final event lost to a crash after the state write (outbox + sweeper)', async () => {
    const h = await launched({ retry: { maxAttempts: 1 } });
    const publish = h.events.publish.bind(h.events);
    let crash = true;
    h.events.publish = async (e) => {
      if (crash && e['detail-type'] === 'Job Run Succeeded') throw new Error('Lambda died');
      return publish(e);
    };
    await expect(
      handleTaskStateChange(h.rt, stopEvent('stopped-exit-0', h.runId, 1, TASK)),
    ).rejects.toThrow();
    expect((await h.store.getRun(h.runId))?.status).toBe('succeeded');
    // The retried event is a duplicate for the lifecycle: nothing more is published by it.
    crash = false;
    await handleTaskStateChange(h.rt, stopEvent('stopped-exit-0', h.runId, 1, TASK));
    expect(h.events.types()).toEqual(['Job Run Started']);
    h.clock.advance(3 * 60_000);
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [] });
    const report = await sweep(h.rt);
    expect(report.republished).toEqual([h.runId]);
    expect(h.events.types()).toEqual(['Job Run Started', 'Job Run Succeeded']);
    expect((await sweep(h.rt)).republished).toEqual([]);
    expect(ecsMock.commandCalls(StopTaskCommand)).toHaveLength(0);
  });
});
