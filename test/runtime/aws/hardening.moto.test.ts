/**
 * Integration tier for issue 12, defects 2–5: the launcher, interceptor and sweeper against moto server
 * (DynamoDB with its 400 KB item limit, SQS with 1 MiB bodies, S3, ECS, EventBridge, Scheduler).
 * 2. A 1 MiB queue body (and a 210 KB one) is accepted: stored once in the payload bucket under the job's
 *    prefix, the run record keeps a stub; a redrive replays it by the same reference.
 * 3. A quote-dense body goes by reference; an ECS client that enforces RunTask's 8,192-character overrides
 *    limit (moto does not) never refuses a berth launch.
 * 4. The sweeper schedules a long retry (CreateSchedule); one run whose retry fails does not end the pass.
 * 5. A run of a job that left the stack is stopped at the timeout its task carries and ended with the reason.
 */
import { ECSClient, type Task } from '@aws-sdk/client-ecs';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsRedrive } from '../../../src/cli/stage.js';
import { triggerRef } from '../../../src/core/lifecycle/trigger.js';
import type { Job } from '../../../src/core/model/job.js';
import type { AwsRuntimeConfig } from '../../../src/runtime/aws/config.js';
import {
  ECS_OVERRIDES_LIMIT,
  overridesLength,
  TIMEOUT_TAG,
} from '../../../src/runtime/aws/ecsTaskLauncher.js';
import { handleTaskStateChange } from '../../../src/runtime/aws/interceptor.js';
import { handleLaunchBatch } from '../../../src/runtime/aws/launcher.js';
import { triggerPayloadKey } from '../../../src/runtime/aws/payloadKeys.js';
import { type AwsRuntime, createAwsRuntime } from '../../../src/runtime/aws/runtime.js';
import { sweep } from '../../../src/runtime/aws/sweeper.js';
import { ORPHAN_REASON } from '../../../src/runtime/lifecycle.js';
import type { MotoServer } from './motoServer.js';
import {
  ACCOUNT,
  drainEvents,
  taskEnv as env,
  offsetClock,
  REGION,
  sqsRecord,
  startMotoStack,
  stoppedEvent,
  tasksOf as tasksOfRun,
} from './motoStack.js';
import { job, manifest } from './support.js';

const BUCKET = 'berth-hardening-payloads';
let moto: MotoServer;
let cfg: AwsRuntimeConfig;
let sqs: SQSClient;
let ecs: ECSClient;
let s3: S3Client;
let ordersQueueUrl: string;
let ordersQueueArn: string;
let outQueueUrl: string;
/** RunTask calls the limit-enforcing ECS client refused (none expected). */
const refused: number[] = [];

const clock = offsetClock();

const once: Job['retry'] = {
  maxAttempts: 1,
  backoff: { minDelay: '1s', maxDelay: '1s', factor: 1, jitter: 0 },
  rules: [],
} as never;
const orders = job({ name: 'orders', trigger: { queue: {} }, task: { image: 'node:22' }, retry: once });
const patient = job({
  name: 'patient',
  task: { image: 'node:22' },
  timeout: '2h',
  retry: { maxAttempts: 3, backoff: { minDelay: '30m', maxDelay: '30m', factor: 1, jitter: 0 }, rules: [] },
});
const legacy = job({ name: 'legacy', task: { image: 'node:22' }, timeout: '10m' });
const JOBS: Job[] = [orders, patient];
const QUEUES = { 'berth-hardening-orders': 'orders' };

/**
 * ECS as moto does not play it: RunTask refused when the serialized overrides pass 8,192 characters, and
 * DescribeTasks answering an unknown task with `MISSING`.
 */
function limitedEcs(): ECSClient {
  const client = new ECSClient({ region: REGION, endpoint: moto.endpoint, maxAttempts: 1 });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = (args as { input: { overrides?: unknown } }).input;
      if (context.commandName === 'RunTaskCommand') {
        const length = JSON.stringify(input.overrides ?? {}).length;
        if (length > ECS_OVERRIDES_LIMIT) {
          refused.push(length);
          throw Object.assign(
            new Error(`Container Overrides length must be at most ${ECS_OVERRIDES_LIMIT}`),
            {
              name: 'InvalidParameterException',
              $fault: 'client',
              $metadata: { httpStatusCode: 400 },
            },
          );
        }
      }
      const result = await next(args);
      if (context.commandName === 'DescribeTasksCommand') {
        // ECS answers a task it does not know with failures[].reason MISSING; moto leaves it out.
        const asked = (args as { input: { tasks?: string[] } }).input.tasks ?? [];
        const output = result.output as { tasks?: Task[]; failures?: { arn?: string; reason?: string }[] };
        const known = new Set((output.tasks ?? []).map((t) => t.taskArn));
        output.failures = [
          ...(output.failures ?? []),
          ...asked.filter((arn) => !known.has(arn)).map((arn) => ({ arn, reason: 'MISSING' })),
        ];
      }
      return result;
    },
    { step: 'initialize', name: 'overridesLimit' },
  );
  return client;
}

function runtime(jobs: Job[] = JOBS, overrides: Parameters<typeof createAwsRuntime>[2] = {}): AwsRuntime {
  return createAwsRuntime(cfg, manifest(jobs, QUEUES), {
    clock,
    ...overrides,
    clients: { ecs: limitedEcs(), ...overrides.clients },
  });
}

const record = (body: string, messageId: string, queueArn: string): SQSRecord =>
  sqsRecord(body, messageId, 'rh', queueArn);

/** Plays the orders queue's event source mapping: receive, invoke the launcher, delete what succeeded. */
async function pumpOrders(rt: AwsRuntime): Promise<SQSRecord[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: ordersQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  const records = (out.Messages ?? []).map((m) => record(m.Body ?? '', m.MessageId ?? '', ordersQueueArn));
  if (!records.length) return [];
  const result = await handleLaunchBatch(rt, { Records: records } as SQSEvent);
  expect(result.batchItemFailures).toEqual([]);
  for (const m of out.Messages ?? [])
    await sqs.send(new DeleteMessageCommand({ QueueUrl: ordersQueueUrl, ReceiptHandle: m.ReceiptHandle }));
  return records;
}

async function pumpLaunchQueue(rt: AwsRuntime): Promise<number> {
  const out = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: cfg.launchQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  const messages = out.Messages ?? [];
  if (!messages.length) return 0;
  await handleLaunchBatch(rt, {
    Records: messages.map((m) => record(m.Body ?? '', m.MessageId ?? '', cfg.launchQueueArn)),
  } as SQSEvent);
  for (const m of messages)
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: cfg.launchQueueUrl, ReceiptHandle: m.ReceiptHandle }),
    );
  return messages.length;
}

const tasksOf = (runId: string): Promise<Task[]> => tasksOfRun(ecs, cfg.cluster, runId);

let version = 100;
function stopEventFor(task: Task, exitCode: number) {
  return stoppedEvent(task, version++, {
    stoppedReason: task.stoppedReason ?? 'Essential container in task exited',
    stopCode: task.stopCode ?? 'EssentialContainerExited',
    containers: [{ name: 'main', lastStatus: 'STOPPED', exitCode }],
  });
}

async function outcomes(): Promise<{ type: string; runId: string; decision: string | null }[]> {
  return (await drainEvents(sqs, outQueueUrl)).map(({ type, detail }) => ({
    type,
    runId: detail.runId as string,
    decision: detail.decision as string | null,
  }));
}

async function readRef(ref: string): Promise<string> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(ref)!;
  const out = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
  return out.Body!.transformToString();
}

describe('AWS runtime limits and orphans against moto server', () => {
  beforeAll(async () => {
    let arnOf: (url: string) => Promise<string>;
    let opts: { region: string; endpoint: string };
    ({ moto, opts, cfg, sqs, ecs, outQueueUrl, arnOf } = await startMotoStack({
      name: 'berth-hardening',
      jobs: [...JOBS, legacy],
      schedules: true,
    }));
    cfg = { ...cfg, payloadBucket: BUCKET };
    s3 = new S3Client({ ...opts, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const ordersQueue = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'berth-hardening-orders',
        Attributes: { MaximumMessageSize: '1048576', VisibilityTimeout: '180' },
      }),
    );
    ordersQueueUrl = ordersQueue.QueueUrl!;
    ordersQueueArn = await arnOf(ordersQueueUrl);
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('2: 1 MiB and 210 KB queue bodies are accepted, stored once under the job prefix, and redriven by reference', async () => {
    const rt = runtime();
    const big = JSON.stringify({ blob: 'b'.repeat(1_048_576 - 20) });
    const mid = JSON.stringify({ blob: 'm'.repeat(210_000) });
    await sqs.send(new SendMessageCommand({ QueueUrl: ordersQueueUrl, MessageBody: big }));
    await sqs.send(new SendMessageCommand({ QueueUrl: ordersQueueUrl, MessageBody: mid }));
    const records: SQSRecord[] = [];
    for (let i = 0; i < 5 && records.length < 2; i++) records.push(...(await pumpOrders(rt)));
    expect(records.map((r) => r.body.length).sort((a, b) => a - b)).toEqual([mid.length, big.length]);
    const runs = await rt.store.listRuns({ job: 'orders' });
    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect(run.status).toBe('running');
      const ref = triggerRef(run.trigger)!;
      expect(ref).toBe(`s3://${BUCKET}/${triggerPayloadKey('orders', run.runId)}`);
      expect(run.trigger).toMatchObject({ kind: 'queue', body: '' });
      const full = JSON.parse(await readRef(ref)) as { body: string; json: { blob: string } };
      expect([big, mid]).toContain(full.body);
      expect(full.json.blob.length).toBe(full.body.length - 11);
      const [task] = await tasksOf(run.runId);
      expect(env(task!).BERTH_TRIGGER_REF).toBe(ref);
    }
    // The big run fails (no retries) and is redriven: the replay reads the same stored trigger.
    const bigRun = runs.find(
      (r) =>
        records.find((x) => x.messageId === (r.trigger as { messageId: string }).messageId)?.body === big,
    )!;
    const [task] = await tasksOf(bigRun.runId);
    expect(await handleTaskStateChange(rt, stopEventFor(task!, 1))).toMatchObject({
      outcome: { status: 'final', runStatus: 'failed' },
    });
    const stage = {
      stage: 'test',
      region: REGION,
      endpoint: moto.endpoint,
      stack: { runsTable: cfg.runsTable, launchQueueUrl: cfg.launchQueueUrl, cluster: cfg.cluster },
    };
    const redriven = await awsRedrive({ ...stage, target: bigRun.runId, jobs: JOBS });
    expect(redriven.runs).toEqual([{ from: bigRun.runId, status: 'queued', runId: expect.any(String) }]);
    while ((await pumpLaunchQueue(rt)) > 0) {}
    const replay = await rt.store.getRun(redriven.runs[0]!.runId!);
    expect(replay).toMatchObject({ status: 'running', replayOf: bigRun.runId });
    expect(triggerRef(replay!.trigger)).toBe(triggerRef(bigRun.trigger));
    const [replayTask] = await tasksOf(replay!.runId);
    expect(env(replayTask!).BERTH_TRIGGER_REF).toBe(triggerRef(bigRun.trigger));
    expect(refused).toEqual([]);
  });

  it('3: a quote-dense body goes by reference; the limit-enforcing ECS never refuses a launch', async () => {
    const rt = runtime();
    const body = '"'.repeat(2311);
    await sqs.send(new SendMessageCommand({ QueueUrl: ordersQueueUrl, MessageBody: body }));
    const [rec] = await pumpOrders(rt);
    const run = (await rt.store.listRuns({ job: 'orders' })).find(
      (r) => (r.trigger as { messageId: string }).messageId === rec!.messageId,
    )!;
    expect(run.status).toBe('running');
    const [task] = await tasksOf(run.runId);
    const ref = env(task!).BERTH_TRIGGER_REF!;
    expect(ref).toBe(`s3://${BUCKET}/${triggerPayloadKey('orders', run.runId)}`);
    expect(JSON.parse(await readRef(ref)).body).toBe(body);
    expect(overridesLength({ overrides: task!.overrides, tags: task!.tags })).toBeLessThanOrEqual(
      ECS_OVERRIDES_LIMIT,
    );
    expect(refused).toEqual([]);
  });

  it('4: the sweeper schedules a long retry; one run whose retry fails does not end the pass', async () => {
    const scheduler = new SchedulerClient({ region: REGION, endpoint: moto.endpoint });
    let failFor: string | undefined;
    scheduler.middlewareStack.add(
      (next, context) => async (args) => {
        const name = (args as { input: { Name?: string } }).input.Name ?? '';
        if (context.commandName === 'CreateScheduleCommand' && failFor && name.includes(failFor))
          throw Object.assign(new Error('User is not authorized to perform: scheduler:CreateSchedule'), {
            name: 'AccessDeniedException',
            $fault: 'client',
            $metadata: { httpStatusCode: 403 },
          });
        return next(args);
      },
      { step: 'initialize', name: 'denyOne' },
    );
    const rt = runtime(JOBS, { clients: { scheduler } });
    const launch = (requestId: string) =>
      handleLaunchBatch(rt, {
        Records: [
          record(
            JSON.stringify({ type: 'invoke', job: 'patient', requestId }),
            requestId,
            cfg.launchQueueArn,
          ),
        ],
      } as SQSEvent);
    await launch('p-1');
    await launch('p-2');
    const runs = (await rt.store.listRuns({ job: 'patient' })).filter((r) => r.status === 'running');
    expect(runs).toHaveLength(2);
    // ECS has forgotten both tasks (DescribeTasks: MISSING).
    for (const [i, run] of runs.entries())
      await rt.store.transition(run.runId, ['running'], {
        status: 'running',
        taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/berth-hardening/0000000000000000000000000000000${i}`,
      });
    failFor = runs[0]!.runId;
    await outcomes();
    clock.offset = 11 * 60_000;
    try {
      const report = await sweep(rt);
      expect(report.errors).toEqual([
        expect.stringMatching(
          new RegExp(`^reconcile ${runs[0]!.runId} \\(patient\\): User is not authorized`),
        ),
      ]);
      expect(report.lost).toEqual([runs[1]!.runId]);
    } finally {
      clock.offset = 0;
    }
    const schedule = await scheduler.send(
      new GetScheduleCommand({ Name: `berth-${runs[1]!.runId}-2`, GroupName: 'berth-hardening' }),
    );
    expect(schedule.ActionAfterCompletion).toBe('DELETE');
    expect(await rt.store.getRun(runs[1]!.runId)).toMatchObject({ status: 'retrying', attempt: 2 });
    const out = await outcomes();
    expect(out.filter((o) => o.runId === runs[1]!.runId).map((o) => o.type)).toEqual(['Job Run Retrying']);
  });

  it('5: a run of a job that left the stack is stopped at its timeout and ended with the reason', async () => {
    const before = runtime([...JOBS, legacy]);
    await handleLaunchBatch(before, {
      Records: [
        record(
          JSON.stringify({ type: 'invoke', job: 'legacy', requestId: 'l-1' }),
          'l-1',
          cfg.launchQueueArn,
        ),
      ],
    } as SQSEvent);
    const [run] = await before.store.listRuns({ job: 'legacy' });
    const [task] = await tasksOf(run!.runId);
    expect(task!.tags).toContainEqual({ key: TIMEOUT_TAG, value: '10m' });
    // The next deploy renamed the job: its manifest no longer has `legacy`.
    const after = runtime(JOBS);
    await outcomes();
    clock.offset = 11 * 60_000;
    try {
      const report = await sweep(after);
      expect(report.timeoutsStopped).toContain(run!.runId);
    } finally {
      clock.offset = 0;
    }
    const [stopped] = await tasksOf(run!.runId);
    expect(stopped!.lastStatus).toBe('STOPPED');
    expect(stopped!.stoppedReason).toMatch(/^berth: timeout: .* limit 10m; job legacy is not in this stack/);
    const result = await handleTaskStateChange(after, stopEventFor(stopped!, 143));
    expect(result).toMatchObject({
      status: 'recorded',
      outcome: { status: 'final', runStatus: 'timed_out' },
    });
    expect(await after.store.getRun(run!.runId)).toMatchObject({
      status: 'timed_out',
      decision: ORPHAN_REASON('legacy'),
    });
    const out = await outcomes();
    expect(out.filter((o) => o.runId === run!.runId)).toEqual([
      { type: 'Job Run Timed Out', runId: run!.runId, decision: ORPHAN_REASON('legacy') },
    ]);
  });
});
