/**
 * A deployed stage, as the `--stage` CLI commands and `berth console --stage` find and use it: the stack's
 * resources (CloudFormation outputs `BerthRunsTableName`, `BerthLaunchQueueUrl`, `BerthClusterArn` of stack
 * `<service>-<stage>`; the environment variables `BERTH_RUNS_TABLE`, `BERTH_LAUNCH_QUEUE_URL` and
 * `BERTH_CLUSTER` override them), where an attempt's CloudWatch log stream is, the launch queue, and moving
 * a queue's dead letters back.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTaskDefinitionCommand, DescribeTasksCommand, type ECSClient } from '@aws-sdk/client-ecs';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createNames } from '../../compiler/naming.js';
import { BerthError } from '../../core/errors.js';
import type { Job } from '../../core/model/job.js';
import type { AttemptRecord } from '../ports.js';
import { BERTH_ENV } from './manifest.js';
import type { InvokeMessage, RedriveMessage, ReplayMessage } from './messages.js';

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

/** The service name: `args.service`, or the `service:` line of serverless.yml in `args.root`. */
export function serviceName(args: StageArgs): string {
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

/** The awslogs stream of a task: `<prefix>/<container>/<task id>`, from its task definition. */
export async function logLocation(
  ecs: ECSClient,
  cluster: string,
  attempt: Pick<AttemptRecord, 'taskArn'>,
): Promise<{ group: string; stream: string } | undefined> {
  if (!attempt.taskArn) return undefined;
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

/** Puts one message on the stage's launch queue (invoke, redrive, replay: the launcher takes it). */
export async function sendLaunchMessage(
  sqs: SQSClient,
  queueUrl: string,
  message: InvokeMessage | RedriveMessage | ReplayMessage,
): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
}

/** Where a job's own queue is: berth's queue by the naming module's physical name, or the existing one. */
export function jobQueueRef(
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
        `moving dead letters back to ${queue.name}: ${sent.Failed.length} message${sent.Failed.length === 1 ? '' : 's'} failed (${sent.Failed[0]?.Code}: ${sent.Failed[0]?.Message}); ${moved} moved — run berth redrive again`,
      );
  }
  return moved;
}
