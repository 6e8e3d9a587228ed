import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleTaskStateChange } from '../../src/runtime/aws/interceptor.js';
import { handleLaunchBatch } from '../../src/runtime/aws/launcher.js';
import { fixture, sqsRecord, stopEvent, thumbnail } from '../runtime/aws/support.js';
import { harness } from './harness.js';

const ecsMock = mockClient(ECSClient);
const TASK = 'arn:aws:ecs:us-east-1:111122223333:task/berth-demo/5f0c8e1d9a2b4c3d8e7f6a5b4c3d2e1f';
const PROVIDER = 'berth-berth-demo-test-ec2';
const s3Body = () => ({ type: 's3', job: 'thumbnail', event: fixture('s3/object-created.json') });
const batch = (body: unknown): SQSEvent => ({ Records: [sqsRecord(body)] }) as SQSEvent;

function ec2Harness() {
  const h = harness([thumbnail({ task: { image: 'i', capacity: { provider: 'ec2' } } })]);
  h.rt.manifest.ec2CapacityProvider = PROVIDER;
  return h;
}

describe('launcher and interceptor: jobs on EC2 capacity', () => {
  beforeEach(() => ecsMock.reset());

  it('launches on the EC2 capacity provider and records no Fargate cost for the attempt', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK, capacityProviderName: PROVIDER }] });
    const h = ec2Harness();
    await handleLaunchBatch(h.rt, batch(s3Body()));
    const input = ecsMock.commandCalls(RunTaskCommand)[0]!.args[0].input;
    expect(input.capacityProviderStrategy).toEqual([{ capacityProvider: PROVIDER, weight: 1 }]);
    expect(input.launchType).toBeUndefined();
    const [run] = await h.store.listRuns({});
    expect(await h.store.listAttempts(run!.runId)).toMatchObject([{ capacity: PROVIDER, status: 'running' }]);

    await handleTaskStateChange(h.rt, stopEvent('stopped-exit-0', run!.runId, 1, TASK));
    const [attempt] = await h.store.listAttempts(run!.runId);
    expect(attempt).toMatchObject({ outcome: 'succeeded', costUsd: null });
    expect(attempt!.durationMs).toBeGreaterThan(0);
    expect(h.events.events.at(-1)!.detail).toMatchObject({ mode: 'task', costUsd: null });
  });

  it('applies no Spot fallback: a capacity failure is one RunTask, then the retry policy', async () => {
    ecsMock.on(RunTaskCommand).resolves({
      tasks: [],
      failures: [{ reason: 'Capacity is unavailable at this time. Please try again later' }],
    });
    const h = ec2Harness();
    await handleLaunchBatch(h.rt, batch(s3Body()));
    const calls = ecsMock.commandCalls(RunTaskCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.capacityProviderStrategy).toEqual([
      { capacityProvider: PROVIDER, weight: 1 },
    ]);
    const [run] = await h.store.listRuns({});
    expect(run).toMatchObject({ status: 'retrying', attempt: 2 });
    const [attempt] = await h.store.listAttempts(run!.runId);
    expect(attempt).toMatchObject({ capacity: 'EC2', outcome: 'start_failure', costUsd: null });
    expect(attempt!.reason).not.toMatch(/falling back/);
  });
});
