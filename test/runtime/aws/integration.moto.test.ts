/**
 * Integration tier: the launcher, interceptor and sweeper against moto server over HTTP (DynamoDB, SQS,
 * ECS, EventBridge, Scheduler). moto never emits ECS events and never fires schedules, so the test builds
 * the stop events from DescribeTasks and hands the launcher the scheduler's payload.
 */
import { ECSClient, type Task } from '@aws-sdk/client-ecs';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsInvoke, awsRedrive, awsRunsList, awsRunsShow } from '../../../src/cli/stage.js';
import type { Job, JobInput } from '../../../src/core/model/job.js';
import type { AwsRuntimeConfig } from '../../../src/runtime/aws/config.js';
import { handleTaskStateChange } from '../../../src/runtime/aws/interceptor.js';
import { handleLaunchBatch } from '../../../src/runtime/aws/launcher.js';
import { type AwsRuntime, createAwsRuntime } from '../../../src/runtime/aws/runtime.js';
import { SqsLaunchQueue } from '../../../src/runtime/aws/sqsLaunchQueue.js';
import { sweep } from '../../../src/runtime/aws/sweeper.js';
import type { MotoServer } from './motoServer.js';
import {
  taskEnv as env,
  offsetClock,
  REGION,
  sqsRecord,
  startMotoStack,
  stoppedEvent,
  tasksOf as tasksOfRun,
} from './motoStack.js';
import { fixture, job, manifest } from './support.js';

let moto: MotoServer;
let cfg: AwsRuntimeConfig;
let sqs: SQSClient;
let ecs: ECSClient;
let outQueueUrl: string;

const clock = offsetClock();

const quickRetry: JobInput['retry'] = {
  maxAttempts: 3,
  backoff: { minDelay: '1s', maxDelay: '1s', factor: 1, jitter: 0 },
  rules: [],
};
const thumbnail = job({
  name: 'thumbnail',
  trigger: { s3: { bucket: 'amzn-s3-demo-bucket1' } },
  task: { image: 'public.ecr.aws/docker/library/node:22-alpine' },
  retry: quickRetry,
});
const slow = job({ name: 'slow', task: { image: 'node:22' }, timeout: '5s', retry: quickRetry });
const nightly = job({
  name: 'nightly-report',
  trigger: { schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Asia/Seoul' } },
  task: { image: 'node:22' },
});
const JOBS: Job[] = [thumbnail, slow, nightly];

function runtime(ecsClient?: ECSClient): AwsRuntime {
  return createAwsRuntime(cfg, manifest(JOBS), {
    clock,
    ...(ecsClient ? { clients: { ecs: ecsClient } } : {}),
  });
}

const s3Event = (key: string) => {
  const event = fixture<{ detail: { object: { key: string; sequencer: string; 'version-id'?: string } } }>(
    's3/object-created.json',
  );
  event.detail.object.key = key;
  event.detail.object['version-id'] = `v-${key}`;
  return event;
};

const record = (body: string, messageId: string, receiptHandle: string): SQSRecord =>
  sqsRecord(body, messageId, receiptHandle, cfg.launchQueueArn);

/** Plays the SQS event source mapping: receive from moto's launch queue, invoke, delete what succeeded. */
async function pumpLaunchQueue(rt: AwsRuntime): Promise<number> {
  const out = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: cfg.launchQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  const messages = out.Messages ?? [];
  if (!messages.length) return 0;
  const event: SQSEvent = {
    Records: messages.map((m) => record(m.Body ?? '', m.MessageId ?? '', m.ReceiptHandle ?? '')),
  };
  const result = await handleLaunchBatch(rt, event);
  const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
  for (const m of messages)
    if (!failed.has(m.MessageId ?? ''))
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: cfg.launchQueueUrl, ReceiptHandle: m.ReceiptHandle }),
      );
  return messages.length;
}

async function sendToLauncher(rt: AwsRuntime, bodies: unknown[]): Promise<void> {
  const event: SQSEvent = {
    Records: bodies.map((b, i) => record(JSON.stringify(b), `direct-${Date.now()}-${i}`, 'rh')),
  };
  const result = await handleLaunchBatch(rt, event);
  expect(result.batchItemFailures).toEqual([]);
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 12_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const tasksOf = (runId: string): Promise<Task[]> => tasksOfRun(ecs, cfg.cluster, runId);

let version = 10;
/** The STOPPED event ECS would send for a task, with the given exit code (or DescribeTasks' reason). */
function stopEventFor(task: Task, exitCode: number | null) {
  return stoppedEvent(task, version++, {
    stoppedReason: task.stoppedReason ?? 'Essential container in task exited',
    stopCode: task.stopCode ?? (task.stoppedReason ? 'UserInitiated' : 'EssentialContainerExited'),
    containers: [{ name: 'main', lastStatus: 'STOPPED', ...(exitCode === null ? {} : { exitCode }) }],
  });
}

async function receiveOutcomes(): Promise<
  { type: string; detail: { runId: string; job: string; status: string } }[]
> {
  const out = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: outQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  for (const m of out.Messages ?? [])
    await sqs.send(new DeleteMessageCommand({ QueueUrl: outQueueUrl, ReceiptHandle: m.ReceiptHandle }));
  return (out.Messages ?? []).map((m) => {
    const e = JSON.parse(m.Body ?? '{}');
    return { type: e['detail-type'], detail: e.detail };
  });
}

describe('AWS runtime against moto server', () => {
  beforeAll(async () => {
    ({ moto, cfg, sqs, ecs, outQueueUrl } = await startMotoStack({
      name: 'berth-test',
      jobs: JOBS,
      ttl: true,
      schedules: true,
    }));
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('S3 event → task with overrides, tags and startedBy; exit 1 → retry after backoff; exit 0 → Job Run Succeeded on the bus', async () => {
    const rt = runtime();
    const body = { type: 's3', job: 'thumbnail', event: s3Event('images/cat.jpg') };
    await sendToLauncher(rt, [body]);
    const [run] = await rt.store.listRuns({ job: 'thumbnail' });
    expect(run).toMatchObject({ status: 'running', attempt: 1 });
    const [task] = await tasksOf(run!.runId);
    expect(task?.startedBy).toBe(`berth/${run!.runId}`);
    expect(task?.taskDefinitionArn).toContain('berth-demo-test-thumbnail');
    expect(env(task!)).toMatchObject({
      BERTH_JOB: 'thumbnail',
      BERTH_RUN_ID: run!.runId,
      BERTH_ATTEMPT: '1',
    });
    expect(JSON.parse(env(task!).BERTH_TRIGGER!)).toMatchObject({ kind: 's3', key: 'images/cat.jpg' });
    expect(task?.tags).toEqual(
      expect.arrayContaining([
        { key: 'berth:job', value: 'thumbnail' },
        { key: 'berth:run', value: run!.runId },
        { key: 'berth:attempt', value: '1' },
      ]),
    );

    const stoppedAt = Date.now();
    const first = await handleTaskStateChange(rt, stopEventFor(task!, 1));
    expect(first).toMatchObject({ status: 'recorded', outcome: { status: 'retrying', nextAttempt: 2 } });
    const attempts = await rt.store.listAttempts(run!.runId);
    expect(attempts[0]).toMatchObject({ attempt: 1, status: 'ended', outcome: 'app_error', exitCode: 1 });

    // The retry waits in the launch queue for its 1 s backoff (SQS DelaySeconds), then launches attempt 2.
    const second = await until('the retry task', async () => {
      await pumpLaunchQueue(rt);
      const tasks = await tasksOf(run!.runId);
      return tasks.length === 2 ? tasks.find((t) => t.taskArn !== task!.taskArn) : undefined;
    });
    expect(env(second).BERTH_ATTEMPT).toBe('2');
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(900);
    const done = await handleTaskStateChange(rt, stopEventFor(second, 0));
    expect(done).toMatchObject({ outcome: { status: 'final', runStatus: 'succeeded' } });

    const collected: Awaited<ReturnType<typeof receiveOutcomes>> = [];
    const outcomes = await until('Job Run Succeeded on the outcomes queue', async () => {
      const got = (await receiveOutcomes()).filter((o) => o.detail.runId === run!.runId);
      collected.push(...got);
      return collected.some((o) => o.type === 'Job Run Succeeded') ? collected : undefined;
    });
    expect(outcomes.map((o) => o.type)).toEqual(
      expect.arrayContaining(['Job Run Started', 'Job Run Retrying', 'Job Run Succeeded']),
    );
    expect(outcomes.filter((o) => o.type === 'Job Run Succeeded')).toHaveLength(1);
  });

  it('the same S3 event twice gives one run and one task', async () => {
    const rt = runtime();
    const body = { type: 's3', job: 'thumbnail', event: s3Event('images/dup.jpg') };
    await sendToLauncher(rt, [body]);
    await sendToLauncher(rt, [body]);
    while ((await pumpLaunchQueue(rt)) > 0) {}
    const runs = (await rt.store.listRuns({ job: 'thumbnail' })).filter(
      (r) => r.trigger.kind === 's3' && r.trigger.key === 'images/dup.jpg',
    );
    expect(runs).toHaveLength(1);
    expect(await tasksOf(runs[0]!.runId)).toHaveLength(1);
  });

  it('the same stop event three times gives one retry', async () => {
    const rt = runtime();
    await sendToLauncher(rt, [{ type: 's3', job: 'thumbnail', event: s3Event('images/thrice.jpg') }]);
    const run = (await rt.store.listRuns({ job: 'thumbnail' })).find(
      (r) => r.trigger.kind === 's3' && r.trigger.key === 'images/thrice.jpg',
    )!;
    const [task] = await tasksOf(run.runId);
    const stop = stopEventFor(task!, 1);
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await handleTaskStateChange(rt, structuredClone(stop)));
    expect(results.filter((r) => r.status === 'recorded' && r.outcome.status === 'retrying')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1500));
    while ((await pumpLaunchQueue(rt)) > 0) {}
    expect(await tasksOf(run.runId)).toHaveLength(2);
    expect((await rt.store.getRun(run.runId))?.attempt).toBe(2);
  });

  it('throttling injected on RunTask loses nothing', async () => {
    const throttled = new ECSClient({ region: REGION, endpoint: moto.endpoint, maxAttempts: 1 });
    let budget = 6;
    throttled.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'RunTaskCommand' && budget-- > 0)
          throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' });
        return next(args);
      },
      { step: 'initialize', name: 'injectThrottling' },
    );
    const rt = runtime(throttled);
    const keys = ['a', 'b', 'c', 'd', 'e'].map((k) => `images/throttle-${k}.jpg`);
    await sendToLauncher(
      rt,
      keys.map((key) => ({ type: 's3', job: 'thumbnail', event: s3Event(key) })),
    );
    const runs = await until('every throttled run to launch', async () => {
      await pumpLaunchQueue(rt);
      const mine = (await rt.store.listRuns({ job: 'thumbnail', limit: 100 })).filter(
        (r) => r.trigger.kind === 's3' && keys.includes(r.trigger.key),
      );
      return mine.length === keys.length && mine.every((r) => r.status === 'running') ? mine : undefined;
    });
    expect(budget).toBeLessThan(0);
    for (const run of runs) expect(await tasksOf(run.runId)).toHaveLength(1);
  });

  it('a run past its timeout is stopped by the sweeper and recorded timed_out', async () => {
    const rt = runtime();
    await sendToLauncher(rt, [{ type: 'invoke', job: 'slow', requestId: 'req-timeout' }]);
    const [run] = await rt.store.listRuns({ job: 'slow' });
    expect(run?.status).toBe('running');
    clock.offset = 10_000;
    try {
      const report = await sweep(rt);
      expect(report.timeoutsStopped).toContain(run!.runId);
      const [task] = await tasksOf(run!.runId);
      expect(task?.lastStatus).toBe('STOPPED');
      expect(task?.stoppedReason).toMatch(/^berth: timeout/);
      const result = await handleTaskStateChange(rt, stopEventFor(task!, 143));
      expect(result).toMatchObject({ outcome: { status: 'final', runStatus: 'timed_out' } });
      expect(await rt.store.getRun(run!.runId)).toMatchObject({ status: 'timed_out', outcome: 'timed_out' });
    } finally {
      clock.offset = 0;
    }
  });

  it('a schedule payload launches a run; a long retry delay becomes a self-deleting one-time schedule', async () => {
    const rt = runtime();
    await sendToLauncher(rt, [fixture('scheduler/launch-input.json')]);
    const [run] = await rt.store.listRuns({ job: 'nightly-report' });
    expect(run).toMatchObject({ status: 'running', trigger: { kind: 'schedule', scheduleId: 'schedule-0' } });
    expect(await tasksOf(run!.runId)).toHaveLength(1);

    const scheduler = new SchedulerClient({ region: REGION, endpoint: moto.endpoint });
    const queue = new SqsLaunchQueue(sqs, {
      ...cfg,
      queueUrl: cfg.launchQueueUrl,
      queueArn: cfg.launchQueueArn,
      clock,
      scheduler,
    });
    const message = { type: 'launch' as const, job: 'nightly-report', runId: run!.runId, attempt: 2 };
    await queue.enqueue(message, 2 * 3_600_000);
    await queue.enqueue(message, 2 * 3_600_000);
    const schedule = await scheduler.send(
      new GetScheduleCommand({ Name: `berth-${run!.runId}-2`, GroupName: 'berth-test' }),
    );
    expect(schedule.ActionAfterCompletion).toBe('DELETE');
    expect(schedule.ScheduleExpression).toMatch(/^at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\)$/);
    expect(JSON.parse(schedule.Target?.Input ?? '{}')).toEqual(message);
  });

  it('--stage commands: invoke goes through the launch queue; list, show and redrive read the runs table', async () => {
    const rt = runtime();
    const stage = {
      stage: 'test',
      region: REGION,
      endpoint: moto.endpoint,
      stack: { runsTable: cfg.runsTable, launchQueueUrl: cfg.launchQueueUrl, cluster: cfg.cluster },
    };
    const invoked = await awsInvoke({ ...stage, job: 'slow', payload: { n: 1 } });
    expect(invoked).toEqual({ status: 'queued', runId: expect.stringMatching(/^r[0-9a-z]{20}$/) });
    while ((await pumpLaunchQueue(rt)) > 0) {}
    // The run id printed by invoke is the one the launcher gave the run.
    const listed = await awsRunsList({ ...stage, job: 'slow' });
    const mine = listed.find((r) => r.runId === invoked.runId);
    expect(mine).toMatchObject({
      status: 'running',
      triggerSummary: 'manual invoke',
      trigger: { payload: { n: 1 } },
    });
    const shown = await awsRunsShow({ ...stage, runId: mine!.runId });
    expect(shown.attemptDetails).toHaveLength(1);

    // The run that timed out earlier is dead-lettered: redrive starts a new run with its trigger.
    const [timedOut] = await awsRunsList({ ...stage, job: 'slow', status: 'timed_out' });
    expect(timedOut?.deadLettered).toBe(true);
    const redriven = await awsRedrive({ ...stage, target: 'slow', jobs: JOBS });
    expect(redriven).toEqual({
      runs: [{ from: timedOut!.runId, status: 'queued', runId: expect.stringMatching(/^r[0-9a-z]{20}$/) }],
      messages: 0,
    });
    while ((await pumpLaunchQueue(rt)) > 0) {}
    expect((await rt.store.getRun(timedOut!.runId))?.deadLettered).toBe(false);
    const replays = (await awsRunsList({ ...stage, job: 'slow' })).filter(
      (r) =>
        r.trigger.kind === 'manual' && r.trigger.requestId === 'req-timeout' && r.runId !== timedOut!.runId,
    );
    expect(replays.map((r) => r.runId)).toEqual([redriven.runs[0]?.runId]);
    expect((await awsRedrive({ ...stage, target: 'slow', jobs: JOBS })).runs).toEqual([]);
    expect(await awsRedrive({ ...stage, target: timedOut!.runId, jobs: JOBS })).toEqual({
      runs: [{ from: timedOut!.runId, status: 'already-redriven', runId: redriven.runs[0]?.runId }],
      messages: 0,
    });
  });
});
