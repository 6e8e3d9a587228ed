/**
 * `--stage` for the CLI: runs, logs, invoke and redrive against a deployed stack. The CLI loads this module
 * on demand. The `aws*` functions return the same JSON shapes as the local commands (`runJson`, invoke's
 * `{ status, runId }`, redrive's `{ runs, messages }`); the CLI prints them, or the same text as locally.
 *
 * Stack resources are found through the CloudFormation stack `<service>-<stage>` outputs `BerthRunsTableName`,
 * `BerthLaunchQueueUrl` and `BerthClusterArn`; the environment variables `BERTH_RUNS_TABLE`,
 * `BERTH_LAUNCH_QUEUE_URL` and `BERTH_CLUSTER` override them.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  type GetLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTaskDefinitionCommand, DescribeTasksCommand } from '@aws-sdk/client-ecs';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import pc from 'picocolors';
import { createNames } from '../compiler/naming.js';
import { BerthError } from '../core/errors.js';
import { idempotencyKey, redriveIdempotencyKey, runIdFor } from '../core/lifecycle/idempotency.js';
import { isFinalStatus, RUN_STATUSES, type RunStatus } from '../core/lifecycle/states.js';
import type { Json } from '../core/model/common.js';
import type { Job } from '../core/model/job.js';
import { createClients } from '../runtime/aws/clients.js';
import { DynamoRunStore } from '../runtime/aws/dynamoRunStore.js';
import { BERTH_ENV } from '../runtime/aws/manifest.js';
import { type InvokeMessage, invokeTrigger, type RedriveMessage } from '../runtime/aws/messages.js';
import type { AttemptRecord, RunRecord } from '../runtime/ports.js';
import { type RunJson, runJson } from './runJson.js';

export { type RunJson, runJson };

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

type ListArgs = StageArgs & { job?: string; status?: string; limit?: number; stack?: StackResources };

/** The runs of `berth runs list --stage`, as records (the CLI prints the same table or JSON as locally). */
export async function awsRunRecords(args: ListArgs): Promise<RunRecord[]> {
  if (args.status && !(RUN_STATUSES as readonly string[]).includes(args.status))
    throw new StageError(
      `--status: "${args.status}" is not a run status — use one of ${RUN_STATUSES.join(', ')}`,
    );
  const { store } = await storeFor(args, args.stack);
  return store.listRuns({
    ...(args.job ? { job: args.job } : {}),
    ...(args.status ? { status: args.status as RunStatus } : {}),
    limit: args.limit ?? 20,
  });
}

/** `berth runs list --stage S --json`. */
export async function awsRunsList(args: ListArgs): Promise<RunJson[]> {
  return (await awsRunRecords(args)).map(runJson);
}

/** One run and its attempts, as records. */
export async function awsRunDetail(
  args: StageArgs & { runId: string; stack?: StackResources },
): Promise<{ run: RunRecord; attempts: AttemptRecord[] }> {
  const { store } = await storeFor(args, args.stack);
  const run = await store.getRun(args.runId);
  if (!run)
    throw new StageError(
      `${args.runId}: no such run in stage ${args.stage} — list runs with berth runs list --stage ${args.stage}`,
    );
  return { run, attempts: await store.listAttempts(args.runId) };
}

/** `berth runs show --stage S --json`. */
export async function awsRunsShow(args: StageArgs & { runId: string; stack?: StackResources }) {
  const { run, attempts } = await awsRunDetail(args);
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

export interface LogsArgs extends StageArgs {
  runId: string;
  /** Only this attempt (no `── attempt n ──` headers, as locally). */
  attempt?: number;
  /** Keep printing new lines until the run is final (or `signal` aborts, or `maxFollowMs` passes). */
  follow?: boolean;
  /** Where the text goes. @default process.stdout.write */
  write?: (text: string) => void;
  /** Stops following (the CLI aborts it on Ctrl-C). */
  signal?: AbortSignal;
  /** Time between polls while following. @default 2000 */
  pollMs?: number;
  /** Longest follow. @default 24 hours */
  maxFollowMs?: number;
  stack?: StackResources;
}

/** Per attempt: where its stream is and how far it has been read. */
interface StreamCursor {
  where?: { group: string; stream: string };
  token?: string;
  printed: boolean;
  noted: boolean;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * `berth runs logs --stage S`: every attempt's CloudWatch log lines (or one attempt's), the same headers as
 * the local command. With `follow`, polls `GetLogEvents` from each stream's `nextForwardToken` until the run
 * is final, then polls once more for lines the awslogs driver delivers after the container exits.
 */
export async function awsRunsLogs(args: LogsArgs): Promise<void> {
  const write = args.write ?? ((text: string) => void process.stdout.write(text));
  const { store, resources } = await storeFor(args, args.stack);
  const logs = new CloudWatchLogsClient({
    ...(args.region ? { region: args.region } : {}),
    ...(args.endpoint ? { endpoint: args.endpoint } : {}),
  });
  const cursors = new Map<number, StreamCursor>();
  const header = (n: number) => {
    if (args.attempt === undefined) write(pc.dim(`── attempt ${n} ──\n`));
  };

  /** Prints what is new in one attempt's stream; `ended` attempts whose stream cannot be found get a note. */
  const pump = async (attempt: AttemptRecord): Promise<void> => {
    let cursor = cursors.get(attempt.attempt);
    if (!cursor) {
      cursor = { printed: false, noted: false };
      cursors.set(attempt.attempt, cursor);
    }
    cursor.where ??= await logLocation(args, resources.cluster, attempt);
    if (!cursor.where) {
      const note = attempt.taskArn
        ? `(ECS no longer describes ${attempt.taskArn}; find its stream in the job's log group)\n`
        : '(no task was started)\n';
      if ((!args.follow || attempt.status === 'ended') && !cursor.noted) {
        header(attempt.attempt);
        write(note);
        cursor.noted = true;
      }
      return;
    }
    for (let page = 0; page < 50; page++) {
      let out: GetLogEventsCommandOutput;
      try {
        out = await logs.send(
          new GetLogEventsCommand({
            logGroupName: cursor.where.group,
            logStreamName: cursor.where.stream,
            startFromHead: true,
            ...(cursor.token ? { nextToken: cursor.token } : {}),
          }),
        );
      } catch (error) {
        // The stream appears with the container's first line.
        if ((error as Error).name === 'ResourceNotFoundException') return;
        throw error;
      }
      const events = out.events ?? [];
      if (events.length && !cursor.printed) {
        header(attempt.attempt);
        cursor.printed = true;
      }
      for (const e of events) write(`${e.message ?? ''}\n`);
      const next = out.nextForwardToken;
      const same = !next || next === cursor.token;
      if (next) cursor.token = next;
      if (same || events.length === 0) return;
    }
  };

  const load = async () => {
    const run = await store.getRun(args.runId);
    if (!run)
      throw new StageError(
        `${args.runId}: no such run in stage ${args.stage} — list runs with berth runs list --stage ${args.stage}`,
      );
    const attempts = (await store.listAttempts(args.runId)).filter(
      (a) => args.attempt === undefined || a.attempt === args.attempt,
    );
    return { run, attempts };
  };

  if (!args.follow) {
    const { run, attempts } = await load();
    if (args.attempt !== undefined && attempts.length === 0)
      throw new StageError(
        `--attempt ${args.attempt}: run ${run.runId} has ${run.attempt === 1 ? 'attempt 1 only' : `attempts 1–${run.attempt}`}`,
      );
    for (const a of attempts) await pump(a);
    return;
  }

  const pollMs = args.pollMs ?? 2000;
  const limitMs = args.maxFollowMs ?? 24 * 3_600_000;
  const deadline = Date.now() + limitMs;
  let finalPolls = 0;
  for (;;) {
    const { run, attempts } = await load();
    for (const a of attempts) await pump(a);
    if (isFinalStatus(run.status) && ++finalPolls > 1) {
      write(pc.dim(`── run ${run.status} ──\n`));
      return;
    }
    if (args.signal?.aborted) {
      write(pc.dim(`── stopped following; run ${run.runId} is ${run.status} ──\n`));
      return;
    }
    if (Date.now() >= deadline) {
      write(pc.dim(`── stopped following after ${Math.round(limitMs / 1000)} s; run is ${run.status} ──\n`));
      return;
    }
    await sleep(pollMs, args.signal);
  }
}

async function sendLaunchMessage(args: StageArgs, queueUrl: string, message: InvokeMessage | RedriveMessage) {
  await clientsFor(args).sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }),
  );
}

/**
 * `berth invoke --stage S`: puts a manual launch on the stage's launch queue and returns the run id the
 * launcher will give it (derived from the same trigger the launcher builds from the message). `status` is
 * `queued`: the launcher accepts it (or drops it as a duplicate of an earlier invoke with the same
 * idempotency key, or skips it by the job's overlap policy) when it takes the message.
 */
export async function awsInvoke(
  args: StageArgs & { job: string; payload?: Json; idempotencyKey?: string; stack?: StackResources },
): Promise<{ status: 'queued'; runId: string }> {
  const resources = args.stack ?? (await resolveStack(args));
  const message: InvokeMessage = {
    type: 'invoke',
    job: args.job,
    requestId: randomUUID(),
    ...(args.payload !== undefined ? { payload: args.payload } : {}),
    ...(args.idempotencyKey ? { idempotencyKey: args.idempotencyKey } : {}),
  };
  await sendLaunchMessage(args, resources.launchQueueUrl, message);
  return { status: 'queued', runId: runIdFor(idempotencyKey(args.job, invokeTrigger(message))) };
}

export interface RedriveResult {
  /** `queued` (the launcher starts `runId`), or `already-redriven` (`runId` is the earlier replay). */
  runs: { from: string; status: string; runId?: string }[];
  /** Messages moved from the job queue's dead-letter queue back to the job queue. */
  messages: number;
}

/** Where a job's own queue is: berth's queue by the naming module's physical name, or the existing one. */
function jobQueueRef(
  service: string,
  stage: string,
  job: Job,
): { name: string; owner?: string; fifo: boolean } | undefined {
  const trigger = job.triggers.find((t) => t.kind === 'queue');
  if (!trigger) return undefined;
  if (!trigger.existing)
    return { name: createNames(service, stage).jobQueue(job.name, trigger.fifo), fifo: trigger.fifo };
  if (!trigger.existing.startsWith('arn:')) return { name: trigger.existing, fifo: trigger.fifo };
  const parts = trigger.existing.split(':');
  return { name: parts[5] ?? '', ...(parts[4] ? { owner: parts[4] } : {}), fifo: trigger.fifo };
}

/**
 * Moves every message of a queue's dead-letter queue (its `RedrivePolicy.deadLetterTargetArn`) back to
 * the queue, 10 at a time: send, then delete what was sent. Bounded by `maxMessages`; a crash between send
 * and delete can repeat a message (the job queue is at-least-once anyway). FIFO messages keep their group id.
 * (SQS `StartMessageMoveTask` does the same server-side, but reports no count until it ends.)
 */
export async function moveDeadLetters(
  sqs: SQSClient,
  queue: { name: string; owner?: string },
  options: { maxMessages?: number; waitSeconds?: number } = {},
): Promise<number> {
  const { QueueUrl: queueUrl } = await sqs.send(
    new GetQueueUrlCommand({
      QueueName: queue.name,
      ...(queue.owner ? { QueueOwnerAWSAccountId: queue.owner } : {}),
    }),
  );
  if (!queueUrl) throw new StageError(`queue ${queue.name}: GetQueueUrl returned no URL`);
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const policy = attrs.Attributes?.RedrivePolicy;
  if (!policy) return 0;
  const dlqArn = (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
  if (!dlqArn) return 0;
  const arnParts = dlqArn.split(':');
  const { QueueUrl: dlqUrl } = await sqs.send(
    new GetQueueUrlCommand({
      QueueName: arnParts[5] ?? '',
      ...(arnParts[4] ? { QueueOwnerAWSAccountId: arnParts[4] } : {}),
    }),
  );
  if (!dlqUrl) throw new StageError(`dead-letter queue ${dlqArn}: GetQueueUrl returned no URL`);
  const max = options.maxMessages ?? 100_000;
  let moved = 0;
  while (moved < max) {
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(10, max - moved),
        WaitTimeSeconds: options.waitSeconds ?? 1,
        VisibilityTimeout: 120,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    const messages = got.Messages ?? [];
    if (messages.length === 0) break;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => {
          const group = m.Attributes?.MessageGroupId;
          return {
            Id: String(i),
            MessageBody: m.Body ?? '',
            ...(m.MessageAttributes && Object.keys(m.MessageAttributes).length
              ? { MessageAttributes: m.MessageAttributes }
              : {}),
            // A fresh deduplication id: reusing the original could let SQS drop the message as a repeat.
            ...(group ? { MessageGroupId: group, MessageDeduplicationId: randomUUID() } : {}),
          };
        }),
      }),
    );
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    const done = messages.flatMap((m, i) =>
      ok.has(String(i)) ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle }] : [],
    );
    if (done.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: dlqUrl, Entries: done }));
    moved += done.length;
    if (sent.Failed?.length)
      throw new StageError(
        `moving dead letters back to ${queue.name}: ${sent.Failed.length} message(s) failed (${sent.Failed[0]?.Code}: ${sent.Failed[0]?.Message}); ${moved} moved — run berth redrive again`,
      );
  }
  return moved;
}

/** `berth redrive launch-queue --stage S`: the launch queue's dead-letter queue, not a job or a run. */
export const LAUNCH_QUEUE_TARGET = 'launch-queue';

/**
 * `berth redrive <job|runId> --stage S`: re-launches dead-lettered runs (one run id, or every dead-lettered
 * run of a job) as new runs with the same trigger, and for a job moves its queue's dead-letter messages back
 * to its queue. Same result shape as the local command; a run redriven earlier is `already-redriven` (the
 * launcher clears the dead-letter mark and notes `redriven as <runId>` in its decision).
 */
export async function awsRedrive(
  args: StageArgs & { target: string; jobs: Job[]; stack?: StackResources; waitSeconds?: number },
): Promise<RedriveResult> {
  const { store, resources } = await storeFor(args, args.stack);
  const job = args.jobs.find((j) => j.name === args.target);
  if (!job && args.target === LAUNCH_QUEUE_TARGET) {
    // Triggers that never became runs (a record failing 10 times, EventBridge or Scheduler giving up): their
    // messages go back to the launch queue as they were; the launcher's log says why each one failed.
    const url = resources.launchQueueUrl;
    const messages = await moveDeadLetters(
      clientsFor(args).sqs,
      { name: url.slice(url.lastIndexOf('/') + 1) },
      {
        ...(args.waitSeconds !== undefined ? { waitSeconds: args.waitSeconds } : {}),
      },
    );
    return { runs: [], messages };
  }
  let candidates: RunRecord[];
  if (job) {
    candidates = (await store.listRuns({ job: job.name, limit: 10_000 })).filter((r) => r.deadLettered);
  } else {
    const run = await store.getRun(args.target);
    if (!run)
      throw new StageError(
        `${args.target}: neither a job nor a run id (nor ${LAUNCH_QUEUE_TARGET}) in stage ${args.stage} — list runs with berth runs list --stage ${args.stage}`,
      );
    candidates = [run];
  }
  const runs: RedriveResult['runs'] = [];
  for (const run of candidates) {
    if (!run.deadLettered) {
      const by = /redriven as (r[0-9a-z]{20})/.exec(run.decision ?? '')?.[1];
      if (by) {
        runs.push({ from: run.runId, status: 'already-redriven', runId: by });
        continue;
      }
      throw new StageError(
        `${run.runId}: is ${run.status}, not dead-lettered — only runs that failed for good can be redriven`,
      );
    }
    const requestId = randomUUID();
    await sendLaunchMessage(args, resources.launchQueueUrl, {
      type: 'redrive',
      job: run.job,
      runId: run.runId,
      requestId,
    });
    // The launcher derives the replay's id from the run alone (one replay however many requests).
    runs.push({
      from: run.runId,
      status: 'queued',
      runId: runIdFor(redriveIdempotencyKey(run.job, run.runId)),
    });
  }
  let messages = 0;
  const queue = job ? jobQueueRef(serviceName(args), args.stage, job) : undefined;
  if (queue)
    messages = await moveDeadLetters(clientsFor(args).sqs, queue, {
      ...(args.waitSeconds !== undefined ? { waitSeconds: args.waitSeconds } : {}),
    });
  return { runs, messages };
}
