/**
 * Integration tier for issue 12, defects 6–8: the launcher, interceptor and sweeper against moto server
 * (DynamoDB, SQS, ECS, EventBridge) with the real DynamoDB run store and its conditional writes.
 * 6. overlap 'skip': two different schedule fires in one batch, nothing running → one run, one task.
 * 7. Two redrive requests for one dead-lettered run in one batch → one replay.
 * 8. The retry's SendMessage fails → the redelivered stop is a duplicate → the sweeper still puts the
 *    `Job Run Retrying` event on the bus, from the outbox entry written with the retry.
 * 9. `berth redrive launch-queue --stage` moves the launch queue's dead-letter messages back.
 */
/**
 * Integration tier for issue 12, defects 6–8: the launcher, interceptor and sweeper against moto server
 * (DynamoDB, SQS, ECS, EventBridge) with the real DynamoDB run store and its conditional writes.
 * 6. overlap 'skip': two different schedule fires in one batch, nothing running → one run, one task.
 * 7. Two redrive requests for one dead-lettered run in one batch → one replay.
 * 8. The retry's SendMessage fails → the redelivered stop is a duplicate → the sweeper still puts the
 *    `Job Run Retrying` event on the bus, from the outbox entry written with the retry.
 * 9. `berth redrive launch-queue --stage` moves the launch queue's dead-letter messages back.
 */
import { type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { ECSClient, type Task } from '@aws-sdk/client-ecs';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsRedrive } from '../../../src/cli/stage.js';
import type { Job } from '../../../src/core/model/job.js';
import type { AwsRuntimeConfig } from '../../../src/runtime/aws/config.js';
import { handleTaskStateChange } from '../../../src/runtime/aws/interceptor.js';
import { handleLaunchBatch } from '../../../src/runtime/aws/launcher.js';
import { type AwsRuntime, createAwsRuntime } from '../../../src/runtime/aws/runtime.js';
import { SqsLaunchQueue } from '../../../src/runtime/aws/sqsLaunchQueue.js';
import { sweep } from '../../../src/runtime/aws/sweeper.js';
import { RUNS_TABLE } from '../../../src/runtime/aws/tableSchema.js';
import type { LaunchQueue } from '../../../src/runtime/ports.js';
import type { MotoServer } from './motoServer.js';
import {
  drainEvents,
  offsetClock,
  REGION,
  sqsRecord,
  startMotoStack,
  stoppedEvent,
  tasksOf as tasksOfRun,
} from './motoStack.js';
import { fixture, job, manifest } from './support.js';

const TABLE = 'berth-races-runs';
let moto: MotoServer;
let cfg: AwsRuntimeConfig;
let sqs: SQSClient;
let ecs: ECSClient;
let ddb: DynamoDBClient;
let outQueueUrl: string;

const clock = offsetClock();

const nightly = job({
  name: 'nightly-report',
  trigger: { schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Asia/Seoul' } },
  task: { image: 'node:22' },
  overlap: 'skip',
});
const thumbnail = job({
  name: 'thumbnail',
  trigger: { s3: { bucket: 'amzn-s3-demo-bucket1' } },
  task: { image: 'node:22' },
  retry: { maxAttempts: 3, backoff: { minDelay: '1s', maxDelay: '1s', factor: 1, jitter: 0 }, rules: [] },
});
const JOBS: Job[] = [nightly, thumbnail];

function runtime(queue?: LaunchQueue, ecsClient?: ECSClient): AwsRuntime {
  return createAwsRuntime(cfg, manifest(JOBS), {
    clock,
    ...(queue ? { queue } : {}),
    ...(ecsClient ? { clients: { ecs: ecsClient } } : {}),
  });
}

/** An ECS client on moto that records every RunTask request (moto ignores `clientToken`; ECS does not). */
function recordingEcs(): { client: ECSClient; runTasks: { startedBy?: string; clientToken?: string }[] } {
  const client = new ECSClient({ region: REGION, endpoint: moto.endpoint });
  const runTasks: { startedBy?: string; clientToken?: string }[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'RunTaskCommand') {
        const input = args.input as { startedBy?: string; clientToken?: string };
        runTasks.push({ startedBy: input.startedBy, clientToken: input.clientToken });
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordRunTask' },
  );
  return { client, runTasks };
}

const record = (body: unknown, messageId: string): SQSRecord =>
  sqsRecord(JSON.stringify(body), messageId, messageId, cfg.launchQueueArn);

async function batch(rt: AwsRuntime, bodies: unknown[]): Promise<void> {
  const event: SQSEvent = { Records: bodies.map((b, i) => record(b, `m-${Date.now()}-${i}`)) };
  const out = await handleLaunchBatch(rt, event);
  expect(out.batchItemFailures).toEqual([]);
}

const tasksOf = (runId: string): Promise<Task[]> => tasksOfRun(ecs, cfg.cluster, runId);

let version = 100;
function stopEventFor(task: Task, exitCode: number) {
  return stoppedEvent(task, version++, {
    stopCode: 'EssentialContainerExited',
    containers: [{ name: 'main', lastStatus: 'STOPPED', exitCode }],
  });
}

const outcomes = () => drainEvents(sqs, outQueueUrl);

async function pendingRetryEntries(runId: string): Promise<number> {
  const out = await ddb.send(
    new QueryCommand({
      TableName: TABLE,
      IndexName: RUNS_TABLE.gsiEventPending.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': RUNS_TABLE.gsiEventPending.pk },
      ExpressionAttributeValues: { ':pk': { S: 'PENDING#retrying' } },
    }),
  );
  return (out.Items ?? []).filter((i) => i.runId?.S === runId).length;
}

describe('issue 12 races against moto server', () => {
  beforeAll(async () => {
    // One request at a time: DynamoDB applies each conditional write atomically; threaded moto does not.
    ({ moto, cfg, sqs, ecs, ddb, outQueueUrl } = await startMotoStack({
      name: 'berth-races',
      runsTable: TABLE,
      jobs: JOBS,
      serialized: true,
    }));
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it("overlap 'skip': two different schedule fires in one batch while nothing runs start one run and one task", async () => {
    const rt = runtime();
    const fire = (scheduledTime: string) => ({
      ...fixture<Record<string, unknown>>('scheduler/launch-input.json'),
      scheduledTime,
    });
    await batch(rt, [fire('2026-03-01T17:00:00Z'), fire('2026-03-02T17:00:00Z')]);
    const runs = await rt.store.listRuns({ job: 'nightly-report' });
    expect(runs).toHaveLength(1);
    expect(runs[0]?.status).toBe('running');
    expect(await tasksOf(runs[0]!.runId)).toHaveLength(1);
    // The slot the fire took is the job's only one until the run stops.
    expect(await rt.store.listSlots('nightly-report')).toEqual([
      expect.objectContaining({ runId: runs[0]!.runId }),
    ]);
    const [task] = await tasksOf(runs[0]!.runId);
    await handleTaskStateChange(rt, stopEventFor(task!, 0));
    expect(await rt.store.listSlots('nightly-report')).toEqual([]);
    await batch(rt, [fire('2026-03-03T17:00:00Z')]);
    expect(await rt.store.listRuns({ job: 'nightly-report' })).toHaveLength(2);
  });

  it('two redrive requests for one dead-lettered run in one batch make one replay', async () => {
    const recorder = recordingEcs();
    const rt = runtime(undefined, recorder.client);
    const s3 = fixture<{ detail: { object: { key: string } } }>('s3/object-created.json');
    s3.detail.object.key = 'images/redrive.jpg';
    await batch(rt, [{ type: 's3', job: 'thumbnail', event: s3 }]);
    const [run] = await rt.store.listRuns({ job: 'thumbnail' });
    expect(
      await rt.store.transition(run!.runId, ['running'], {
        status: 'failed',
        deadLettered: true,
        endedAt: clock.now().toISOString(),
      }),
    ).toBe(true);
    await batch(rt, [
      { type: 'redrive', job: 'thumbnail', runId: run!.runId, requestId: 'first' },
      { type: 'redrive', job: 'thumbnail', runId: run!.runId, requestId: 'second' },
    ]);
    const replays = (await rt.store.listRuns({ job: 'thumbnail' })).filter((r) => r.replayOf === run!.runId);
    expect(replays).toHaveLength(1);
    expect((await rt.store.getRun(run!.runId))?.deadLettered).toBe(false);
    // Launch every queued message: still one task for the replay.
    for (;;) {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: cfg.launchQueueUrl, MaxNumberOfMessages: 10 }),
      );
      if (!out.Messages?.length) break;
      await handleLaunchBatch(rt, {
        Records: out.Messages.map((m) => ({ ...record({}, m.MessageId!), body: m.Body! })),
      });
      for (const m of out.Messages)
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: cfg.launchQueueUrl, ReceiptHandle: m.ReceiptHandle }),
        );
    }
    // Every RunTask for the replay carries the same client token, so ECS starts one task for it (moto does
    // not implement client tokens, so its task count would not show it).
    const forReplay = recorder.runTasks.filter((r) => r.startedBy === `berth/${replays[0]!.runId}`);
    expect(forReplay.length).toBeGreaterThanOrEqual(1);
    expect(new Set(forReplay.map((r) => r.clientToken)).size).toBe(1);
    expect(
      recorder.runTasks.filter(
        (r) =>
          r.startedBy?.startsWith('berth/') &&
          r.startedBy !== `berth/${run!.runId}` &&
          r.startedBy !== `berth/${replays[0]!.runId}`,
      ),
    ).toEqual([]);
    expect((await rt.store.getRun(replays[0]!.runId))?.status).toBe('running');
  });

  it('a failed retry SendMessage does not lose the Retrying event: the sweeper publishes it from the outbox', async () => {
    const real = new SqsLaunchQueue(sqs, {
      queueUrl: cfg.launchQueueUrl,
      queueArn: cfg.launchQueueArn,
      clock,
    });
    let failNext = false;
    const flaky: LaunchQueue = {
      enqueue: async (message, delayMs) => {
        if (failNext) {
          failNext = false;
          throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' });
        }
        return real.enqueue(message, delayMs);
      },
    };
    const rt = runtime(flaky);
    const s3 = fixture<{ detail: { object: { key: string } } }>('s3/object-created.json');
    s3.detail.object.key = 'images/retry-event.jpg';
    await batch(rt, [{ type: 's3', job: 'thumbnail', event: s3 }]);
    const run = (await rt.store.listRuns({ job: 'thumbnail' })).find(
      (r) => r.trigger.kind === 's3' && r.trigger.key === 'images/retry-event.jpg',
    )!;
    await outcomes();
    const [task] = await tasksOf(run.runId);
    const stop = stopEventFor(task!, 1);
    failNext = true;
    await expect(handleTaskStateChange(rt, structuredClone(stop))).rejects.toThrow(/Service Unavailable/);
    expect(await handleTaskStateChange(rt, structuredClone(stop))).toMatchObject({
      outcome: { status: 'duplicate' },
    });
    expect((await rt.store.getRun(run.runId))?.status).toBe('retrying');
    expect(await pendingRetryEntries(run.runId)).toBe(1);
    expect((await outcomes()).filter((o) => o.type === 'Job Run Retrying')).toEqual([]);

    clock.offset = 5 * 60_000;
    try {
      const report = await sweep(rt);
      expect(report.errors).toEqual([]);
      expect(report.republished).toContain(run.runId);
      expect(report.requeued).toContain(run.runId);
    } finally {
      clock.offset = 0;
    }
    const retrying = (await outcomes()).filter((o) => o.type === 'Job Run Retrying');
    expect(retrying).toHaveLength(1);
    expect(retrying[0]?.detail).toMatchObject({
      runId: run.runId,
      attempt: 1,
      status: 'retrying',
      exitCode: 1,
      taskArn: task!.taskArn,
    });
    expect(await pendingRetryEntries(run.runId)).toBe(0);
  });

  it('berth redrive launch-queue --stage moves the launch dead-letter queue back to the launch queue', async () => {
    const arnOf = async (url: string) =>
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
        .Attributes!.QueueArn!;
    const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: 'berth-races-l2-dlq' }))).QueueUrl!;
    const launchQueue = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: 'berth-races-l2',
          Attributes: {
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await arnOf(dlq), maxReceiveCount: 10 }),
          },
        }),
      )
    ).QueueUrl!;
    const poison = { type: 'invoke', job: 'thumbnail', requestId: 'dead-lettered' };
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: JSON.stringify(poison) }));
    const stage = {
      stage: 'test',
      region: REGION,
      endpoint: moto.endpoint,
      stack: { runsTable: TABLE, launchQueueUrl: launchQueue, cluster: cfg.cluster },
    };
    expect(await awsRedrive({ ...stage, target: 'launch-queue', jobs: JOBS, waitSeconds: 0 })).toEqual({
      runs: [],
      messages: 1,
    });
    const back = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: launchQueue, MaxNumberOfMessages: 10 }),
    );
    expect(back.Messages?.map((m) => JSON.parse(m.Body ?? '{}'))).toEqual([poison]);
    const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10 }));
    expect(left.Messages ?? []).toEqual([]);
  });
});
