import { ConflictException, ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcsTaskLauncher, isNoResponse } from '../../../src/runtime/aws/ecsTaskLauncher.js';
import type { LaunchRequest } from '../../../src/runtime/ports.js';
import { manifest, thumbnail } from './support.js';

const ecsMock = mockClient(ECSClient);
const job = thumbnail();
const launcher = new EcsTaskLauncher(new ECSClient({ region: 'us-east-1' }), {
  cluster: 'berth-demo',
  manifest: manifest([job]),
  network: { subnets: ['subnet-1', 'subnet-2'], securityGroups: ['sg-1'], assignPublicIp: true },
});

function request(over: Partial<LaunchRequest> = {}): LaunchRequest {
  return {
    job,
    run: { runId: 'r0123456789abcdefghjk' } as LaunchRequest['run'],
    attempt: 2,
    environment: { BERTH_JOB: 'thumbnail', BERTH_RUN_ID: 'r0123456789abcdefghjk', BERTH_ATTEMPT: '2' },
    capacity: 'FARGATE',
    clientToken: 'r0123456789abcdefghjk-2',
    startedBy: 'berth/r0123456789abcdefghjk',
    ...over,
  };
}

const TASK = 'arn:aws:ecs:us-east-1:111122223333:task/berth-demo/abc';

describe('EcsTaskLauncher', () => {
  beforeEach(() => ecsMock.reset());

  it('runs the job’s family with correlation by construction', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }], failures: [] });
    await expect(launcher.launch(request())).resolves.toEqual({
      ok: true,
      taskArn: TASK,
      capacity: 'FARGATE',
    });
    const input = ecsMock.commandCalls(RunTaskCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      cluster: 'berth-demo',
      taskDefinition: 'berth-demo-test-thumbnail',
      launchType: 'FARGATE',
      startedBy: 'berth/r0123456789abcdefghjk',
      clientToken: 'r0123456789abcdefghjk-2',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-1', 'subnet-2'],
          securityGroups: ['sg-1'],
          assignPublicIp: 'ENABLED',
        },
      },
      tags: [
        { key: 'berth:job', value: 'thumbnail' },
        { key: 'berth:run', value: 'r0123456789abcdefghjk' },
        { key: 'berth:attempt', value: '2' },
        // The sweeper enforces it even after the job leaves the stack.
        { key: 'berth:timeout', value: '1h' },
      ],
    });
    expect(input.overrides?.containerOverrides?.[0]).toEqual({
      name: 'main',
      environment: [
        { name: 'BERTH_JOB', value: 'thumbnail' },
        { name: 'BERTH_RUN_ID', value: 'r0123456789abcdefghjk' },
        { name: 'BERTH_ATTEMPT', value: '2' },
      ],
    });
  });

  it('asks for Spot through a capacity provider strategy', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK, capacityProviderName: 'FARGATE_SPOT' }] });
    await expect(launcher.launch(request({ capacity: 'FARGATE_SPOT' }))).resolves.toMatchObject({
      capacity: 'FARGATE_SPOT',
    });
    const input = ecsMock.commandCalls(RunTaskCommand)[0]!.args[0].input;
    expect(input.capacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]);
    expect(input.launchType).toBeUndefined();
  });

  it('maps failures[] to capacity or failed launch outcomes', async () => {
    ecsMock
      .on(RunTaskCommand)
      .resolvesOnce({
        tasks: [],
        failures: [
          {
            reason:
              'Capacity is unavailable at this time. Please try again later or in a different availability zone',
          },
        ],
      })
      .resolvesOnce({ tasks: [], failures: [{ arn: 'x', reason: 'MISSING' }] });
    await expect(launcher.launch(request())).resolves.toMatchObject({ ok: false, kind: 'capacity' });
    await expect(launcher.launch(request())).resolves.toMatchObject({
      ok: false,
      kind: 'failed',
      reason: /MISSING/,
    });
  });

  it('reports throttling as throttled, so the launch waits instead of failing', async () => {
    // The ECS model has no ThrottlingException class: the SDK raises a generic service error with that name.
    ecsMock
      .on(RunTaskCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(launcher.launch(request())).resolves.toMatchObject({ ok: false, kind: 'throttled' });
  });

  it('maps an error with no HTTP response to throttled (RunTask may have started the task), a 4xx to failed', () => {
    // Shapes as they leave the SDK's retry loop: it adds $metadata (attempts) to every error.
    const reset = Object.assign(new Error('socket hang up'), {
      code: 'ECONNRESET',
      $metadata: { attempts: 3 },
    });
    const timeout = Object.assign(new Error('Connection timed out after 5000 ms'), { name: 'TimeoutError' });
    const invalid = Object.assign(new Error('Subnet not found'), {
      name: 'InvalidParameterException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(isNoResponse(reset)).toBe(true);
    expect(isNoResponse(timeout)).toBe(true);
    expect(isNoResponse(Object.assign(new Error('wrapped'), { cause: reset }))).toBe(true);
    expect(isNoResponse(invalid)).toBe(false);
    expect(isNoResponse(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }))).toBe(false);
  });

  it('treats a client-token conflict as the attempt’s task already running', async () => {
    ecsMock
      .on(RunTaskCommand)
      .rejects(
        Object.assign(new ConflictException({ message: 'conflict', $metadata: {} }), { resourceIds: [TASK] }),
      );
    await expect(launcher.launch(request())).resolves.toEqual({
      ok: true,
      taskArn: TASK,
      capacity: 'FARGATE',
    });
  });

  it('places an EC2 job through the stack’s EC2 capacity provider, never a launch type', async () => {
    const ec2 = new EcsTaskLauncher(new ECSClient({ region: 'us-east-1' }), {
      cluster: 'berth-demo',
      manifest: { ...manifest([job]), ec2CapacityProvider: 'berth-berth-demo-test-ec2' },
      network: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: false },
    });
    ecsMock
      .on(RunTaskCommand)
      .resolves({ tasks: [{ taskArn: TASK, capacityProviderName: 'berth-berth-demo-test-ec2' }] });
    await expect(ec2.launch(request({ capacity: 'EC2' }))).resolves.toEqual({
      ok: true,
      taskArn: TASK,
      capacity: 'berth-berth-demo-test-ec2',
    });
    const input = ecsMock.commandCalls(RunTaskCommand)[0]!.args[0].input;
    expect(input.capacityProviderStrategy).toEqual([
      { capacityProvider: 'berth-berth-demo-test-ec2', weight: 1 },
    ]);
    expect(input.launchType).toBeUndefined();
    expect(input.networkConfiguration?.awsvpcConfiguration?.assignPublicIp).toBe('DISABLED');
  });

  it('refuses an EC2 launch when the manifest names no EC2 capacity provider', async () => {
    await expect(launcher.launch(request({ capacity: 'EC2' }))).rejects.toThrow(
      /names no EC2 capacity provider — add custom\.berth\.capacity\.ec2/,
    );
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(0);
  });
});
