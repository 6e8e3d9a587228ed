/**
 * `--stage` for the CLI: runs, logs, invoke and redrive against a deployed stack. The CLI loads this module
 * on demand and prints what these functions return (the same JSON shapes as the local commands).
 *
 * Stack resources are found through the CloudFormation stack `<service>-<stage>` outputs `BerthRunsTableName`,
 * `BerthLaunchQueueUrl` and `BerthClusterArn`; the environment variables `BERTH_RUNS_TABLE`,
 * `BERTH_LAUNCH_QUEUE_URL` and `BERTH_CLUSTER` override them.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTaskDefinitionCommand, DescribeTasksCommand } from '@aws-sdk/client-ecs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { BerthError } from '../../core/errors.js';
import { RUN_STATUSES, type RunStatus } from '../../core/lifecycle/states.js';
import { summarizeTrigger } from '../../core/lifecycle/trigger.js';
import type { Json } from '../../core/model/common.js';
import type { AttemptRecord, RunRecord } from '../ports.js';
import { createClients } from './clients.js';
import { DynamoRunStore } from './dynamoRunStore.js';
import { BERTH_ENV } from './manifest.js';
import type { InvokeMessage, RedriveMessage } from './messages.js';

export interface StageArgs {
  service?: string;
  stage: string;
  region?: string;
  endpoint?: string;
  /** Project root, to read the service name from serverless.yml when `service` is not given. */
  root?: string;
}

export class StageError extends BerthError {
  override name = 'StageError';
}

export interface StackResources {
  runsTable: string;
  launchQueueUrl: string;
  cluster: string;
}

function serviceName(args: StageArgs): string {
  if (args.service) return args.service;
  try {
    const yml = readFileSync(join(args.root ?? process.cwd(), 'serverless.yml'), 'utf8');
    const match = /^service:\s*['"]?([A-Za-z0-9-]+)['"]?\s*$/m.exec(yml);
    if (match?.[1]) return match[1];
  } catch {
    // fall through to the error below
  }
  throw new StageError('--service: not given and no service: line in serverless.yml — pass --service <name>');
}

/** Finds the stage's runs table, launch queue and cluster. */
export async function resolveStack(args: StageArgs): Promise<StackResources> {
  const fromEnv = {
    runsTable: process.env[BERTH_ENV.runsTable],
    launchQueueUrl: process.env[BERTH_ENV.launchQueueUrl],
    cluster: process.env[BERTH_ENV.cluster],
  };
  if (fromEnv.runsTable && fromEnv.launchQueueUrl && fromEnv.cluster) return fromEnv as StackResources;
  const stackName = `${serviceName(args)}-${args.stage}`;
  const cfn = new CloudFormationClient({
    ...(args.region ? { region: args.region } : {}),
    ...(args.endpoint ? { endpoint: args.endpoint } : {}),
  });
  let outputs: Record<string, string>;
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Object.fromEntries(
      (out.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
    );
  } catch (error) {
    throw new StageError(
      `--stage ${args.stage}: stack ${stackName} not found (${(error as Error).message}) — deploy it first, or check --service and --region`,
      { cause: error },
    );
  }
  const need = (key: string, override?: string): string => {
    const value = override ?? outputs[key];
    if (!value)
      throw new StageError(
        `stack ${stackName}: output ${key} is missing — redeploy with this version of berth`,
      );
    return value;
  };
  return {
    runsTable: need('BerthRunsTableName', fromEnv.runsTable),
    launchQueueUrl: need('BerthLaunchQueueUrl', fromEnv.launchQueueUrl),
    cluster: need('BerthClusterArn', fromEnv.cluster),
  };
}

function clientsFor(args: StageArgs) {
  return createClients({ region: args.region, endpoint: args.endpoint });
}

async function storeFor(args: StageArgs, stack?: StackResources) {
  const resources = stack ?? (await resolveStack(args));
  return { store: new DynamoRunStore(clientsFor(args).ddb, resources.runsTable), resources };
}

/** The run JSON of `berth runs list --json` (same shape as the local engine's). */
export function runJson(run: RunRecord) {
  return {
    runId: run.runId,
    job: run.job,
    status: run.status,
    attempts: run.attempt,
    maxAttempts: run.maxAttempts,
    trigger: run.trigger,
    triggerSummary: summarizeTrigger(run.trigger),
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    endedAt: run.endedAt,
    exitCode: run.exitCode,
    outcome: run.outcome,
    reason: run.reason,
    decision: run.decision,
    nextAttemptAt: run.nextAttemptAt,
    deadLettered: run.deadLettered,
  };
}

export async function awsRunsList(
  args: StageArgs & { job?: string; status?: string; limit?: number; stack?: StackResources },
) {
  if (args.status && !(RUN_STATUSES as readonly string[]).includes(args.status))
    throw new StageError(
      `--status: "${args.status}" is not a run status — use one of ${RUN_STATUSES.join(', ')}`,
    );
  const { store } = await storeFor(args, args.stack);
  const runs = await store.listRuns({
    ...(args.job ? { job: args.job } : {}),
    ...(args.status ? { status: args.status as RunStatus } : {}),
    limit: args.limit ?? 20,
  });
  return runs.map(runJson);
}

export async function awsRunsShow(args: StageArgs & { runId: string; stack?: StackResources }) {
  const { store } = await storeFor(args, args.stack);
  const run = await store.getRun(args.runId);
  if (!run)
    throw new StageError(
      `${args.runId}: no such run in stage ${args.stage} — list runs with berth runs list --stage ${args.stage}`,
    );
  const attempts = await store.listAttempts(args.runId);
  return { ...runJson(run), attemptDetails: attempts };
}

/** The awslogs stream of a task: `<prefix>/<container>/<task id>`, from its task definition. */
async function logLocation(
  args: StageArgs,
  cluster: string,
  attempt: AttemptRecord,
): Promise<{ group: string; stream: string } | undefined> {
  if (!attempt.taskArn) return undefined;
  const { ecs } = clientsFor(args);
  const tasks = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [attempt.taskArn] }));
  const definition = tasks.tasks?.[0]?.taskDefinitionArn;
  if (!definition) return undefined;
  const td = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: definition }));
  const container = td.taskDefinition?.containerDefinitions?.find((c) => c.essential !== false);
  const options = container?.logConfiguration?.options ?? {};
  const group = options['awslogs-group'];
  const prefix = options['awslogs-stream-prefix'];
  if (!group || !prefix || !container?.name) return undefined;
  const taskId = attempt.taskArn.slice(attempt.taskArn.lastIndexOf('/') + 1);
  return { group, stream: `${prefix}/${container.name}/${taskId}` };
}

/** Every attempt's CloudWatch log lines, as text. */
export async function awsRunsLogs(
  args: StageArgs & { runId: string; stack?: StackResources },
): Promise<string> {
  const { store, resources } = await storeFor(args, args.stack);
  const run = await store.getRun(args.runId);
  if (!run) throw new StageError(`${args.runId}: no such run in stage ${args.stage}`);
  const logs = new CloudWatchLogsClient({
    ...(args.region ? { region: args.region } : {}),
    ...(args.endpoint ? { endpoint: args.endpoint } : {}),
  });
  let text = '';
  for (const attempt of await store.listAttempts(args.runId)) {
    text += `── attempt ${attempt.attempt} ──\n`;
    const where = await logLocation(args, resources.cluster, attempt);
    if (!where) {
      text += attempt.taskArn
        ? `(ECS no longer describes ${attempt.taskArn}; find its stream in the job's log group)\n`
        : '(no task was started)\n';
      continue;
    }
    let token: string | undefined;
    for (let page = 0; page < 50; page++) {
      const out = await logs.send(
        new GetLogEventsCommand({
          logGroupName: where.group,
          logStreamName: where.stream,
          startFromHead: true,
          ...(token ? { nextToken: token } : {}),
        }),
      );
      for (const e of out.events ?? []) text += `${e.message ?? ''}\n`;
      if (!out.nextForwardToken || out.nextForwardToken === token) break;
      token = out.nextForwardToken;
    }
  }
  return text;
}

async function sendLaunchMessage(args: StageArgs, queueUrl: string, message: InvokeMessage | RedriveMessage) {
  await clientsFor(args).sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }),
  );
}

/** Puts a manual launch on the stage's launch queue (the launcher creates the run). */
export async function awsInvoke(
  args: StageArgs & { job: string; payload?: Json; idempotencyKey?: string; stack?: StackResources },
) {
  const resources = args.stack ?? (await resolveStack(args));
  const message: InvokeMessage = {
    type: 'invoke',
    job: args.job,
    requestId: randomUUID(),
    ...(args.payload !== undefined ? { payload: args.payload } : {}),
    ...(args.idempotencyKey ? { idempotencyKey: args.idempotencyKey } : {}),
  };
  await sendLaunchMessage(args, resources.launchQueueUrl, message);
  return { queued: true, job: args.job, requestId: message.requestId };
}

/**
 * Re-launches dead-lettered runs: one run id, or every dead-lettered run of a job. Each becomes a new run
 * with the same trigger (the launcher clears the old run's dead-letter mark).
 */
export async function awsRedrive(args: StageArgs & { target: string; stack?: StackResources }) {
  const { store, resources } = await storeFor(args, args.stack);
  let runs: RunRecord[];
  if (/^r[0-9a-z]{20}$/.test(args.target)) {
    const run = await store.getRun(args.target);
    if (!run) throw new StageError(`${args.target}: no such run in stage ${args.stage}`);
    runs = [run];
  } else {
    const finals = await Promise.all(
      (['failed', 'timed_out'] as const).map((status) =>
        store.listRuns({ job: args.target, status, limit: 1000 }),
      ),
    );
    runs = finals.flat();
  }
  const dead = runs.filter((r) => r.deadLettered);
  for (const run of dead)
    await sendLaunchMessage(args, resources.launchQueueUrl, {
      type: 'redrive',
      job: run.job,
      runId: run.runId,
      requestId: randomUUID(),
    });
  return {
    redriven: dead.map((r) => r.runId),
    skipped: runs.filter((r) => !r.deadLettered).map((r) => r.runId),
  };
}
