/**
 * `--stage` CLI against moto server: `runs logs` with `--attempt` and `--follow` (CloudWatch Logs
 * GetLogEvents), invoke's real run id, redrive moving the job queue's dead letters back, and the real
 * `berth` binary printing the same text and JSON as the local commands.
 */

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateClusterCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsInvoke, awsRedrive, awsRunsLogs, type StackResources } from '../../../src/cli/stage.js';
import { createNames } from '../../../src/compiler/naming.js';
import { idempotencyKey, runIdFor } from '../../../src/core/lifecycle/idempotency.js';
import type { RunStatus } from '../../../src/core/lifecycle/states.js';
import type { Job } from '../../../src/core/model/job.js';
import { createClients } from '../../../src/runtime/aws/clients.js';
import { DynamoRunStore } from '../../../src/runtime/aws/dynamoRunStore.js';
import { parseLaunchPathBody } from '../../../src/runtime/aws/messages.js';
import { RUNS_TABLE, runsTableKeys } from '../../../src/runtime/aws/tableSchema.js';
import { newAttemptRecord, newRunRecord } from '../../../src/runtime/lifecycle.js';
import type { RunRecord } from '../../../src/runtime/ports.js';
import { cleanup, job as jobSource, makeProject } from '../local/harness.js';
import { ec2Ids, type MotoServer } from './motoServer.js';
import { REGION, startMotoWithEnv } from './motoStack.js';
import { job } from './support.js';

/** Colours depend on the terminal and on CI (picocolors turns them on when CI is set); compare text only. */
const plain = (text: string): string => stripVTControlCharacters(text);

const SERVICE = 'shop';
const STAGE = 'test';
const names = createNames(SERVICE, STAGE);
let moto: MotoServer;
let store: DynamoRunStore;
let sqs: SQSClient;
let ecs: ECSClient;
let logs: CloudWatchLogsClient;
let stack: StackResources;
let subnets: string[];
let groups: string[];
let taskDefinitionArn: string;
let seq = 0;

const orders = job({ name: 'orders', task: { image: 'node:22' }, trigger: { queue: {} } });
const fifoJob = job({ name: 'ledger', task: { image: 'node:22' }, trigger: { queue: { fifo: true } } });
const JOBS: Job[] = [orders, fifoJob];

const stageArgs = () => ({ service: SERVICE, stage: STAGE, region: REGION, endpoint: moto.endpoint, stack });

async function makeRun(jobName: string, status: RunStatus, attempts: number, extra: Partial<RunRecord> = {}) {
  const now = new Date(Date.now() + seq++).toISOString();
  const trigger = { kind: 'manual' as const, requestId: `req-${seq}` };
  const run: RunRecord = newRunRecord({
    runId: runIdFor(idempotencyKey(jobName, trigger)),
    job: jobName,
    status,
    attempt: attempts,
    maxAttempts: 3,
    trigger,
    idempotencyKey: idempotencyKey(jobName, trigger),
    createdAt: now,
    ...extra,
  });
  expect(await store.createRun(run)).toBe(true);
  const taskIds: string[] = [];
  for (let a = 1; a <= attempts; a++) {
    const task = await ecs.send(
      new RunTaskCommand({
        cluster: stack.cluster,
        taskDefinition: taskDefinitionArn,
        launchType: 'FARGATE',
        startedBy: `berth/${run.runId}`,
        networkConfiguration: {
          awsvpcConfiguration: { subnets: subnets.slice(0, 1), securityGroups: groups.slice(0, 1) },
        },
      }),
    );
    const taskArn = task.tasks?.[0]?.taskArn ?? '';
    expect(taskArn).toMatch(/^arn:aws:ecs:/);
    taskIds.push(taskArn.slice(taskArn.lastIndexOf('/') + 1));
    await store.createAttempt(
      newAttemptRecord({
        runId: run.runId,
        attempt: a,
        status: a < attempts || status !== 'running' ? 'ended' : 'running',
        taskArn,
        capacity: 'FARGATE',
        launchedAt: now,
        startedAt: now,
      }),
    );
  }
  return { run, streams: taskIds.map((id) => `orders/main/${id}`) };
}

async function putLines(stream: string, lines: string[], create = false) {
  if (create)
    await logs.send(
      new CreateLogStreamCommand({ logGroupName: '/berth/shop-test/jobs/orders', logStreamName: stream }),
    );
  const t = Date.now();
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: '/berth/shop-test/jobs/orders',
      logStreamName: stream,
      logEvents: lines.map((message, i) => ({ message, timestamp: t + i })),
    }),
  );
}

async function queueUrl(name: string, attributes: Record<string, string> = {}): Promise<string> {
  return (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl ?? '';
}

async function drain(url: string, max = 100) {
  const out: { Body?: string; Attributes?: Record<string, string>; MessageAttributes?: unknown }[] = [];
  for (let i = 0; i < max; i++) {
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    if (!got.Messages?.length) break;
    out.push(...got.Messages);
  }
  return out;
}

describe('--stage CLI against moto server', () => {
  beforeAll(async () => {
    let opts: { region: string; endpoint: string };
    ({ moto, opts } = await startMotoWithEnv());
    sqs = new SQSClient(opts);
    ecs = new ECSClient(opts);
    logs = new CloudWatchLogsClient(opts);
    await new DynamoDBClient(opts).send(new CreateTableCommand(runsTableKeys(names.runsTable)));
    store = new DynamoRunStore(createClients(opts).ddb, names.runsTable);
    await ecs.send(new CreateClusterCommand({ clusterName: names.cluster }));
    const td = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: names.taskFamily('orders'),
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [
          {
            name: 'main',
            image: 'node:22',
            memory: 512,
            essential: true,
            logConfiguration: {
              logDriver: 'awslogs',
              options: {
                'awslogs-group': names.jobLogGroup('orders'),
                'awslogs-region': REGION,
                'awslogs-stream-prefix': 'orders',
              },
            },
          },
        ],
      }),
    );
    taskDefinitionArn = td.taskDefinition?.taskDefinitionArn ?? '';
    await logs.send(new CreateLogGroupCommand({ logGroupName: names.jobLogGroup('orders') }));
    subnets = await ec2Ids(moto.endpoint, 'DescribeSubnets', 'subnetId');
    groups = await ec2Ids(moto.endpoint, 'DescribeSecurityGroups', 'groupId');
    stack = {
      runsTable: names.runsTable,
      launchQueueUrl: await queueUrl(names.launchQueue),
      cluster: names.cluster,
    };
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('runs logs: every attempt under headers, or one attempt alone with --attempt', async () => {
    const { run, streams } = await makeRun('orders', 'failed', 2);
    await putLines(streams[0]!, ['first try', 'boom'], true);
    await putLines(streams[1]!, ['second try', 'boom again'], true);
    let all = '';
    await awsRunsLogs({ ...stageArgs(), runId: run.runId, write: (t) => (all += plain(t)) });
    expect(all).toBe('── attempt 1 ──\nfirst try\nboom\n── attempt 2 ──\nsecond try\nboom again\n');
    let second = '';
    await awsRunsLogs({ ...stageArgs(), runId: run.runId, attempt: 2, write: (t) => (second += plain(t)) });
    expect(second).toBe('second try\nboom again\n');
    await expect(
      awsRunsLogs({ ...stageArgs(), runId: run.runId, attempt: 3, write: () => {} }),
    ).rejects.toThrow('--attempt 3: run');
  });

  it('runs logs --follow: prints lines as they arrive (stream created late), each once, until the run is final', async () => {
    const { run, streams } = await makeRun('orders', 'running', 1);
    const chunks: string[] = [];
    const following = awsRunsLogs({
      ...stageArgs(),
      runId: run.runId,
      follow: true,
      pollMs: 100,
      maxFollowMs: 20_000,
      write: (t) => chunks.push(plain(t)),
    });
    await new Promise((r) => setTimeout(r, 400));
    expect(chunks).toEqual([]); // no stream yet: nothing printed, no error
    await putLines(streams[0]!, ['line 1', 'line 2'], true);
    await expect.poll(() => chunks.join(''), { timeout: 5000 }).toContain('line 2');
    await putLines(streams[0]!, ['line 3']);
    await expect.poll(() => chunks.join(''), { timeout: 5000 }).toContain('line 3');
    await store.transition(run.runId, ['running'], {
      status: 'succeeded',
      endedAt: new Date().toISOString(),
    });
    await following;
    expect(chunks.join('')).toBe('── attempt 1 ──\nline 1\nline 2\nline 3\n── run succeeded ──\n');
  });

  it('runs logs --follow: stops when aborted (Ctrl-C) and when the time bound passes', async () => {
    const { run } = await makeRun('orders', 'running', 1);
    const abort = new AbortController();
    let out = '';
    const started = Date.now();
    const following = awsRunsLogs({
      ...stageArgs(),
      runId: run.runId,
      follow: true,
      pollMs: 5000,
      signal: abort.signal,
      write: (t) => (out += plain(t)),
    });
    setTimeout(() => abort.abort(), 300);
    await following;
    expect(Date.now() - started).toBeLessThan(4000);
    expect(out).toBe(`── stopped following; run ${run.runId} is running ──\n`);
    let bounded = '';
    await awsRunsLogs({
      ...stageArgs(),
      runId: run.runId,
      follow: true,
      pollMs: 50,
      maxFollowMs: 300,
      write: (t) => (bounded += plain(t)),
    });
    expect(bounded).toMatch(/stopped following after 0 s; run is running/);
  });

  it('invoke returns { status: queued, runId } and runId is what the launcher derives from the message', async () => {
    const result = await awsInvoke({
      ...stageArgs(),
      job: 'orders',
      payload: { id: 7 },
      idempotencyKey: 'k-1',
    });
    const got = await drain(stack.launchQueueUrl);
    const message = parseLaunchPathBody(got.at(-1)?.Body ?? '');
    expect(message).toMatchObject({
      type: 'invoke',
      job: 'orders',
      idempotencyKey: 'k-1',
      payload: { id: 7 },
    });
    expect(result).toEqual({ status: 'queued', runId: runIdFor('orders#manual#k-1') });
  });

  it('redrive <job>: re-launches its dead-lettered runs and moves its DLQ messages back to its queue', async () => {
    const dlq = await queueUrl(names.jobDeadLetterQueue('orders', false));
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    const main = await queueUrl(names.jobQueue('orders', false), {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
    });
    for (let i = 0; i < 23; i++)
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: dlq,
          MessageBody: JSON.stringify({ order: i }),
          MessageAttributes: { source: { DataType: 'String', StringValue: `s${i}` } },
        }),
      );
    const { run: dead } = await makeRun('orders', 'failed', 1, {
      deadLettered: true,
      endedAt: new Date().toISOString(),
    });
    await drain(stack.launchQueueUrl);
    const result = await awsRedrive({ ...stageArgs(), target: 'orders', jobs: JOBS, waitSeconds: 0 });
    expect(result.messages).toBe(23);
    expect(result.runs).toEqual([
      { from: dead.runId, status: 'queued', runId: expect.stringMatching(/^r[0-9a-z]{20}$/) },
    ]);
    const back = await drain(main);
    expect(back.map((m) => JSON.parse(m.Body ?? '{}').order).sort((a, b) => a - b)).toEqual([
      ...Array(23).keys(),
    ]);
    expect(back[0]?.MessageAttributes).toMatchObject({ source: { DataType: 'String' } });
    expect(await drain(dlq)).toEqual([]);
    const [launch] = await drain(stack.launchQueueUrl);
    expect(parseLaunchPathBody(launch?.Body ?? '')).toMatchObject({
      type: 'redrive',
      job: 'orders',
      runId: dead.runId,
    });
    // A second redrive finds nothing left.
    expect(await awsRedrive({ ...stageArgs(), target: 'orders', jobs: JOBS, waitSeconds: 0 })).toEqual({
      runs: expect.any(Array),
      messages: 0,
    });
  });

  it('DynamoRunStore keeps replayOf; a run item written before the field existed reads as null', async () => {
    const { run: original } = await makeRun('orders', 'failed', 1);
    const { run: replay } = await makeRun('orders', 'queued', 1, { replayOf: original.runId });
    expect((await store.getRun(replay.runId))?.replayOf).toBe(original.runId);
    expect((await store.listRuns({ job: 'orders' })).find((r) => r.runId === replay.runId)?.replayOf).toBe(
      original.runId,
    );
    const { replayOf: _, ...older } = { ...original, runId: 'rbeforereplayof000000' };
    expect(await store.createRun(older as RunRecord)).toBe(true);
    expect(await store.getRun('rbeforereplayof000000')).toMatchObject({ replayOf: null, job: 'orders' });
  });

  it('DynamoRunStore outbox: pending final events from the sparse index, oldest first, gone once published', async () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 2, 1, 9, minute)).toISOString();
    const pending = async (runId: string, minute: number) => {
      const run = newRunRecord({
        runId,
        job: 'outbox',
        status: 'running',
        maxAttempts: 1,
        trigger: { kind: 'manual', requestId: runId },
        idempotencyKey: `k-${runId}`,
        createdAt: at(minute),
      });
      expect(await store.createRun(run)).toBe(true);
      expect(await store.transition(runId, ['running'], { status: 'cancelled', updatedAt: at(minute) })).toBe(
        true,
      );
    };
    await pending('routboxold00000000000', 0);
    await pending('routboxmid00000000000', 1);
    await pending('routboxnew00000000000', 2);
    await store.markEventPublished('routboxmid00000000000');
    const before = new Date(Date.UTC(2026, 2, 1, 10));
    // Oldest first: a long backlog drains from its start instead of starving its oldest runs.
    expect((await store.listUnpublishedFinalRuns(before, 1)).map((r) => r.runId)).toEqual([
      'routboxold00000000000',
    ]);
    expect((await store.listUnpublishedFinalRuns(before)).map((r) => [r.runId, r.status])).toEqual([
      ['routboxold00000000000', 'cancelled'],
      ['routboxnew00000000000', 'cancelled'],
    ]);
    // Updated after `before`: left for a later pass.
    expect(await store.listUnpublishedFinalRuns(new Date(Date.UTC(2026, 2, 1, 9)))).toEqual([]);
    // The index is sparse: a published run leaves it (it stays in the status index).
    const doc = createClients({ region: REGION, endpoint: moto.endpoint }).ddb;
    const indexed = await doc.send(
      new QueryCommand({
        TableName: names.runsTable,
        IndexName: RUNS_TABLE.gsiEventPending.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': RUNS_TABLE.gsiEventPending.pk },
        ExpressionAttributeValues: { ':pk': 'PENDING#cancelled' },
      }),
    );
    expect(indexed.Items?.map((i) => i.runId)).toEqual(['routboxold00000000000', 'routboxnew00000000000']);
    expect((await store.listByStatus('cancelled')).map((r) => r.runId)).toContain('routboxmid00000000000');
    await store.markEventPublished('routboxold00000000000');
    await store.markEventPublished('routboxnew00000000000');
    expect(await store.listUnpublishedFinalRuns(before)).toEqual([]);
  });

  it('redrive of a FIFO job keeps each message group', async () => {
    const dlq = await queueUrl(names.jobDeadLetterQueue('ledger', true), { FifoQueue: 'true' });
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    const main = await queueUrl(names.jobQueue('ledger', true), {
      FifoQueue: 'true',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
    });
    for (const [i, group] of ['a', 'b', 'a'].entries())
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: dlq,
          MessageBody: `m${i}`,
          MessageGroupId: group,
          MessageDeduplicationId: `d${i}`,
        }),
      );
    const result = await awsRedrive({ ...stageArgs(), target: 'ledger', jobs: JOBS, waitSeconds: 0 });
    expect(result).toEqual({ runs: [], messages: 3 });
    const back = await drain(main);
    expect(back.map((m) => [m.Body, m.Attributes?.MessageGroupId]).sort()).toEqual([
      ['m0', 'a'],
      ['m1', 'b'],
      ['m2', 'a'],
    ]);
  });

  it('redrive <runId> of a run that is not dead-lettered fails like the local command', async () => {
    const { run } = await makeRun('orders', 'succeeded', 1);
    await expect(awsRedrive({ ...stageArgs(), target: run.runId, jobs: JOBS })).rejects.toThrow(
      'is succeeded, not dead-lettered',
    );
    await expect(awsRedrive({ ...stageArgs(), target: 'rnope', jobs: JOBS })).rejects.toThrow(
      'neither a job nor a run id',
    );
  });

  it('the berth binary prints the local text without --json and the local JSON with it', async () => {
    const dir = makeProject(
      'cli-stage',
      { orders: jobSource('orders', `trigger: { queue: {} }`) },
      { 'serverless.yml': `service: ${SERVICE}\n` },
    );
    try {
      const env = {
        ...process.env,
        NO_COLOR: '1',
        AWS_ENDPOINT_URL: moto.endpoint,
        BERTH_RUNS_TABLE: stack.runsTable,
        BERTH_LAUNCH_QUEUE_URL: stack.launchQueueUrl,
        BERTH_CLUSTER: stack.cluster,
      };
      const berth = (args: string[]) => runBin(dir, args, env);
      const table = await berth(['runs', 'list', '--stage', STAGE, '--job', 'orders']);
      expect(table.code).toBe(0);
      expect(table.stderr).not.toMatch(/error/i);
      expect(table.stdout).toMatch(/^RUN\s+JOB\s+STATUS/);
      expect(table.stdout).toMatch(/ orders +succeeded /);
      const unknown = await berth(['runs', 'list', '--stage', STAGE, '--job', 'nope']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain(
        "--job: no job named 'nope' in jobs/ and no runs of it — known jobs: orders",
      );
      const json = await berth(['runs', 'list', '--stage', STAGE, '--job', 'orders', '--json']);
      const list = JSON.parse(json.stdout) as { runId: string; triggerSummary: string }[];
      expect(list.length).toBeGreaterThan(0);
      expect(Object.keys(list[0]!)).toContain('triggerSummary');
      const invoked = await berth(['invoke', 'orders', '--stage', STAGE]);
      expect(invoked.stdout).toMatch(/^queued run r[0-9a-z]{20} of orders\n$/);
      const invokedJson = JSON.parse((await berth(['invoke', 'orders', '--stage', STAGE, '--json'])).stdout);
      expect(Object.keys(invokedJson).sort()).toEqual(['runId', 'status']);
      const redriven = await berth(['redrive', 'orders', '--stage', STAGE]);
      expect(redriven.stdout).toContain("0 dead-letter messages moved back to orders's queue");
      const shown = await berth(['runs', 'show', list[0]!.runId, '--stage', STAGE]);
      expect(shown.stdout).toContain(`logs: berth runs logs ${list[0]!.runId} --stage ${STAGE}`);
    } finally {
      cleanup(dir);
    }
  });
});

function runBin(
  dir: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, '../../../bin/berth.js'), '-C', dir, ...args],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 30_000,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
