import { ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Job, JobInput } from '../../src/core/model/job.js';
import { handleTaskStateChange } from '../../src/runtime/aws/interceptor.js';
import { MemoryRunStore } from '../../src/runtime/aws/memoryRunStore.js';
import { createAwsRuntime } from '../../src/runtime/aws/runtime.js';
import { workerRunId } from '../../src/runtime/lifecycle.js';
import type { AttemptRecord } from '../../src/runtime/ports.js';
import {
  config,
  FakeClock,
  fixture,
  job,
  manifest,
  RecordingPublisher,
  RecordingQueue,
  thumbnail,
} from '../runtime/aws/support.js';
import { harness } from './harness.js';

const ecsMock = mockClient(ECSClient);
const TASK = 'arn:aws:ecs:us-east-1:111122223333:task/berth-demo/9d2c4b7e1f0a4e6b8c3d2a1b0f9e8d7c';
const SERVICE = 'berth-demo-test-BerthJobEmailSenderService-Xk2pQ7rT9vLm';
const QUEUE = 'berth-demo-test__email-sender';

const emailSender = (task: Partial<JobInput['task']> = {}): Job =>
  job({
    name: 'email-sender',
    trigger: { queue: { mode: 'service', service: { minTasks: 0, maxTasks: 10 } } },
    task: { image: 'public.ecr.aws/docker/library/node:22-alpine', ...task },
  } as JobInput);

function workerHarness(jobs: Job[] = [emailSender(), thumbnail()]) {
  return harness(jobs, { [QUEUE]: 'email-sender' });
}

const event = (name: string) => fixture(`ecs/${name}.json`);

describe('interceptor: service-mode workers', () => {
  beforeEach(() => ecsMock.reset());

  it('records a worker stopped by scale-in (exit 0) as one succeeded run with a mode: service event', async () => {
    const h = workerHarness();
    const result = await handleTaskStateChange(h.rt, event('service-stopped-scale-in'));
    const runId = workerRunId('email-sender', TASK);
    expect(result).toEqual({
      status: 'recorded',
      runId,
      attempt: 1,
      outcome: { status: 'final', runStatus: 'succeeded' },
      mode: 'service',
    });
    const run = await h.store.getRun(runId);
    expect(run).toMatchObject({
      job: 'email-sender',
      status: 'succeeded',
      attempt: 1,
      maxAttempts: 1,
      outcome: 'succeeded',
      exitCode: 0,
      stopCode: 'ServiceSchedulerInitiated',
      taskArn: TASK,
      createdAt: '2026-03-01T08:00:02.114Z',
      endedAt: '2026-03-01T10:15:41.300Z',
      deadLettered: false,
      trigger: { kind: 'queue', queue: QUEUE, worker: SERVICE },
    });
    const [attempt] = await h.store.listAttempts(runId);
    expect(attempt).toMatchObject({
      status: 'ended',
      outcome: 'succeeded',
      capacity: 'FARGATE',
      durationMs: Date.parse('2026-03-01T10:15:41.300Z') - Date.parse('2026-03-01T08:00:25.913Z'),
    });
    expect(attempt!.costUsd).toBeGreaterThan(0);
    expect(h.events.types()).toEqual(['Job Run Succeeded']);
    expect(h.events.events[0]!.detail).toMatchObject({
      mode: 'service',
      job: 'email-sender',
      runId,
      status: 'succeeded',
      taskArn: TASK,
      trigger: { kind: 'queue', summary: `queue ${QUEUE} worker of ${SERVICE}` },
    });
    // ECS replaces workers; berth launches nothing.
    expect(h.queue.sent).toEqual([]);
  });

  it('records a crashed worker as Job Run Failed with its classification, and does not retry it', async () => {
    const h = workerHarness();
    const result = await handleTaskStateChange(h.rt, event('service-stopped-crash'));
    expect(result).toMatchObject({ status: 'recorded', outcome: { status: 'final', runStatus: 'failed' } });
    const run = await h.store.getRun(workerRunId('email-sender', TASK));
    expect(run).toMatchObject({
      status: 'failed',
      outcome: 'app_error',
      exitCode: 1,
      stopCode: 'EssentialContainerExited',
      reason: 'Essential container in task exited',
      deadLettered: false,
    });
    expect(run!.decision).toMatch(/does not retry workers/);
    expect(h.events.types()).toEqual(['Job Run Failed']);
    expect(h.events.events[0]!.detail).toMatchObject({ mode: 'service', outcome: 'app_error', exitCode: 1 });
    expect(h.queue.sent).toEqual([]);
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it('counts a Spot worker that drained and exited 0 as succeeded, keeping the spot_interrupted outcome', async () => {
    const h = workerHarness();
    await handleTaskStateChange(h.rt, event('service-stopped-spot-drained'));
    const runId = workerRunId('email-sender', TASK);
    expect(await h.store.getRun(runId)).toMatchObject({ status: 'succeeded', outcome: 'spot_interrupted' });
    const [attempt] = await h.store.listAttempts(runId);
    expect(attempt!.capacity).toBe('FARGATE_SPOT');
    expect(h.events.types()).toEqual(['Job Run Succeeded']);
  });

  it('records the same stop event delivered twice once, with one event', async () => {
    const h = workerHarness();
    const stop = event('service-stopped-crash');
    await handleTaskStateChange(h.rt, stop);
    const again = await handleTaskStateChange(h.rt, structuredClone(stop));
    expect(again).toMatchObject({ status: 'recorded', outcome: { status: 'duplicate' } });
    expect(await h.store.listRuns({})).toHaveLength(1);
    expect(h.events.types()).toEqual(['Job Run Failed']);
  });

  it('finishes on redelivery when the first delivery died after creating the run', async () => {
    const clock = new FakeClock();
    class CrashOnce extends MemoryRunStore {
      crashed = false;
      override async createAttempt(a: AttemptRecord): Promise<boolean> {
        if (!this.crashed) {
          this.crashed = true;
          throw new Error('Lambda timed out');
        }
        return super.createAttempt(a);
      }
    }
    const store = new CrashOnce(() => clock.now());
    const events = new RecordingPublisher();
    const rt = createAwsRuntime(config, manifest([emailSender()], { [QUEUE]: 'email-sender' }), {
      clients: { ecs: new ECSClient({ region: 'us-east-1' }) },
      store,
      queue: new RecordingQueue(),
      events,
      clock,
    });
    await expect(handleTaskStateChange(rt, event('service-stopped-crash'))).rejects.toThrow(/timed out/);
    expect(await store.getRun(workerRunId('email-sender', TASK))).toMatchObject({ status: 'running' });
    expect(events.types()).toEqual([]);
    await handleTaskStateChange(rt, event('service-stopped-crash'));
    expect(await store.getRun(workerRunId('email-sender', TASK))).toMatchObject({ status: 'failed' });
    expect(events.types()).toEqual(['Job Run Failed']);
  });

  it('does not estimate a Fargate cost for a worker on EC2 capacity', async () => {
    const h = workerHarness([emailSender({ capacity: { provider: 'ec2' } })]);
    const ec2 = event('service-stopped-scale-in') as { detail: Record<string, unknown> };
    ec2.detail.launchType = 'EC2';
    ec2.detail.capacityProviderName = 'berth-berth-demo-test-ec2';
    await handleTaskStateChange(h.rt, ec2);
    const [attempt] = await h.store.listAttempts(workerRunId('email-sender', TASK));
    expect(attempt).toMatchObject({
      capacity: 'berth-berth-demo-test-ec2',
      costUsd: null,
      outcome: 'succeeded',
    });
    expect(h.events.events[0]!.detail.costUsd).toBeNull();
  });

  it('ignores service tasks of other task definitions and of task-mode jobs', async () => {
    const h = workerHarness();
    const foreign = event('service-stopped-crash') as { detail: Record<string, unknown> };
    foreign.detail.taskDefinitionArn = 'arn:aws:ecs:us-east-1:111122223333:task-definition/web-frontend:12';
    expect(await handleTaskStateChange(h.rt, foreign)).toMatchObject({ status: 'ignored' });
    const taskMode = event('service-stopped-crash') as { detail: Record<string, unknown> };
    taskMode.detail.taskDefinitionArn =
      'arn:aws:ecs:us-east-1:111122223333:task-definition/berth-demo-test-thumbnail:7';
    expect(await handleTaskStateChange(h.rt, taskMode)).toMatchObject({ status: 'ignored' });
    expect(await h.store.listRuns({})).toEqual([]);
    expect(h.events.events).toEqual([]);
  });

  it('treats a worker that is still running as not terminal', async () => {
    const h = workerHarness();
    const running = event('service-stopped-crash') as { detail: Record<string, unknown> };
    running.detail.lastStatus = 'RUNNING';
    running.detail.version = 2;
    expect(await handleTaskStateChange(h.rt, running)).toEqual({
      status: 'not-terminal',
      lastStatus: 'RUNNING',
    });
    expect(await h.store.listRuns({})).toEqual([]);
  });
});
