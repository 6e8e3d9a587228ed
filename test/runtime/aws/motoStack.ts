/**
 * The berth stack the moto tiers share: moto server, test credentials in the environment, the runs table,
 * the launch queue, an ECS cluster with one Fargate task definition per job, the event bus with a rule that
 * copies every berth event to an outcomes queue, and the AwsRuntimeConfig that points at all of it. Also the
 * SQS records, task look-ups and ECS stop events those tiers build.
 */
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { Job } from '../../../src/core/model/job.js';
import type { AwsRuntimeConfig } from '../../../src/runtime/aws/config.js';
import { RUNS_TABLE, runsTableKeys } from '../../../src/runtime/aws/tableSchema.js';
import type { Clock } from '../../../src/runtime/ports.js';
import { ec2Ids, type MotoServer, startMoto } from './motoServer.js';
import { fixture } from './support.js';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

/**
 * Wall-clock time moved ahead by `offset` ms (the sweeper's "later" against moto's real timestamps);
 * random() = 0 keeps backoff and throttle delays at their minimum.
 */
export function offsetClock(): Clock & { offset: number } {
  const clock: Clock & { offset: number } = {
    offset: 0,
    now: () => new Date(Date.now() + clock.offset),
    random: () => 0,
  };
  return clock;
}

/** Starts moto for one test file and puts the test credentials and region in the environment. */
export async function startMotoWithEnv(
  options: { serialized?: boolean } = {},
): Promise<{ moto: MotoServer; opts: { region: string; endpoint: string } }> {
  const moto = await startMoto(undefined, options);
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_REGION = REGION;
  return { moto, opts: { region: REGION, endpoint: moto.endpoint } };
}

export interface MotoStack {
  moto: MotoServer;
  opts: { region: string; endpoint: string };
  sqs: SQSClient;
  ecs: ECSClient;
  ddb: DynamoDBClient;
  cfg: AwsRuntimeConfig;
  outQueueUrl: string;
  arnOf(queueUrl: string): Promise<string>;
}

/**
 * Creates `<name>-runs`, `<name>-launch`, `<name>-outcomes`, cluster and bus `<name>`, a task definition
 * `berth-demo-test-<job>` per job (the family support.ts's manifest names) and, with `schedules`, the
 * schedule group `<name>` and its scheduler role in the config.
 */
export async function startMotoStack(options: {
  name: string;
  jobs: Job[];
  runsTable?: string;
  serialized?: boolean;
  /** Turn on the runs table's TTL attribute as the stack does. */
  ttl?: boolean;
  schedules?: boolean;
}): Promise<MotoStack> {
  const { name } = options;
  const runsTable = options.runsTable ?? `${name}-runs`;
  const { moto, opts } = await startMotoWithEnv({ serialized: options.serialized });
  const sqs = new SQSClient(opts);
  const ecs = new ECSClient(opts);
  const ddb = new DynamoDBClient(opts);
  await ddb.send(new CreateTableCommand(runsTableKeys(runsTable)));
  if (options.ttl)
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: runsTable,
        TimeToLiveSpecification: { AttributeName: RUNS_TABLE.ttl, Enabled: true },
      }),
    );
  const arnOf = async (url: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
      .Attributes!.QueueArn!;
  const launch = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-launch` }));
  const outQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-outcomes` }))).QueueUrl!;
  await ecs.send(new CreateClusterCommand({ clusterName: name }));
  for (const j of options.jobs)
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `berth-demo-test-${j.name}`,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'main', image: j.task.image, memory: 512, essential: true }],
      }),
    );
  const events = new EventBridgeClient(opts);
  await events.send(new CreateEventBusCommand({ Name: name }));
  await events.send(
    new PutRuleCommand({
      Name: `${name}-outcomes`,
      EventBusName: name,
      EventPattern: JSON.stringify({ source: ['berth'] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: `${name}-outcomes`,
      EventBusName: name,
      Targets: [{ Id: 'out', Arn: await arnOf(outQueueUrl) }],
    }),
  );
  if (options.schedules) await new SchedulerClient(opts).send(new CreateScheduleGroupCommand({ Name: name }));
  const subnets = await ec2Ids(moto.endpoint, 'DescribeSubnets', 'subnetId');
  const groups = await ec2Ids(moto.endpoint, 'DescribeSecurityGroups', 'groupId');
  if (!subnets.length) throw new Error('moto answered DescribeSubnets with no subnet (default VPC missing)');
  const cfg: AwsRuntimeConfig = {
    region: REGION,
    endpoint: moto.endpoint,
    cluster: name,
    runsTable,
    eventBus: name,
    launchQueueUrl: launch.QueueUrl!,
    launchQueueArn: await arnOf(launch.QueueUrl!),
    subnets: subnets.slice(0, 2),
    securityGroups: groups.slice(0, 1),
    assignPublicIp: false,
    ...(options.schedules
      ? { scheduleGroup: name, schedulerRoleArn: `arn:aws:iam::${ACCOUNT}:role/${name}-scheduler` }
      : {}),
    runTtlDays: 7,
  };
  return { moto, opts, sqs, ecs, ddb, cfg, outQueueUrl, arnOf };
}

/** The record an SQS event source mapping hands a Lambda for one message of `queueArn`. */
export function sqsRecord(
  body: string,
  messageId: string,
  receiptHandle: string,
  queueArn: string,
): SQSRecord {
  return {
    messageId,
    receiptHandle,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: ACCOUNT,
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: REGION,
  };
}

/** Receives and deletes every event the outcomes queue holds: each one's detail-type and detail. */
export async function drainEvents(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ type: string; detail: Record<string, unknown> }[]> {
  const got: { type: string; detail: Record<string, unknown> }[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!out.Messages?.length) return got;
    for (const m of out.Messages) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
      const e = JSON.parse(m.Body ?? '{}');
      got.push({ type: e['detail-type'], detail: e.detail });
    }
  }
}

/** The tasks berth started for a run (`startedBy: berth/<runId>`), with their tags. */
export async function tasksOf(ecs: ECSClient, cluster: string, runId: string): Promise<Task[]> {
  const list = await ecs.send(new ListTasksCommand({ cluster, startedBy: `berth/${runId}` }));
  if (!list.taskArns?.length) return [];
  const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: list.taskArns, include: ['TAGS'] }));
  return out.tasks ?? [];
}

/** The environment overrides of a task's main container. */
export function taskEnv(task: Task): Record<string, string> {
  const vars = task.overrides?.containerOverrides?.[0]?.environment ?? [];
  return Object.fromEntries(vars.map((v) => [v.name ?? '', v.value ?? '']));
}

/**
 * The STOPPED event ECS would send for a task: the stopped-exit-1 fixture with the task's identity, the
 * given event `version` and `detail` fields (stop code, reason, containers) laid over it.
 */
export function stoppedEvent(task: Task, version: number, detail: Record<string, unknown>) {
  const event = fixture<{ detail: Record<string, unknown> }>('ecs/stopped-exit-1.json');
  Object.assign(event.detail, {
    taskArn: task.taskArn,
    clusterArn: task.clusterArn,
    startedBy: task.startedBy,
    overrides: task.overrides,
    version,
    ...detail,
  });
  return event;
}
