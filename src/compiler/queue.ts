/**
 * Per queue trigger: the job's own SQS queue and dead-letter queue (or an existing queue), and an event
 * source mapping that feeds its messages to the launcher with partial batch responses.
 */
import { parseDuration } from '../core/duration.js';
import { formatJobIssue } from '../core/errors.js';
import type { Job, JobTrigger } from '../core/model/job.js';
import { arn, type CfnValue, getAtt, type Resources } from './cfn.js';
import { queueVisibilityIssue } from './checks.js';
import type { CompileContext } from './context.js';
import { CompileError } from './errors.js';
import { logicalIds } from './naming.js';

type QueueJobTrigger = Extract<JobTrigger, { kind: 'queue' }>;

/** SQS's largest message body (1 MiB); `berth dev`'s SQS endpoint enforces the same. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

/** ESM `MaximumConcurrency` is 2–1000; a job's concurrency cap is enforced again by the launcher's slots. */
export function mappingConcurrency(job: Job): number {
  return Math.min(1000, Math.max(2, job.maxConcurrency ?? 10));
}

/** The queue's name: own queues use the naming module, existing ones the last part of the ARN or the name. */
export function queueName(job: Job, trigger: QueueJobTrigger, ctx: CompileContext): string {
  if (!trigger.existing) return ctx.names.jobQueue(job.name, trigger.fifo);
  return trigger.existing.startsWith('arn:') ? trigger.existing.split(':').pop()! : trigger.existing;
}

export function queueArn(job: Job, trigger: QueueJobTrigger): CfnValue {
  if (!trigger.existing) return getAtt(logicalIds.jobQueue(job.name), 'Arn');
  if (trigger.existing.startsWith('arn:')) return trigger.existing;
  return arn('sqs', trigger.existing);
}

/**
 * The job's own queue and its dead-letter queue (14 days' retention, SSE, FIFO when the trigger is).
 * `queueProperties` adds to the queue's properties (its visibility timeout at least).
 */
export function jobQueueResources(
  job: Job,
  trigger: QueueJobTrigger,
  ctx: CompileContext,
  queueProperties: { VisibilityTimeout: number } & Record<string, CfnValue>,
): Resources {
  const fifo: Record<string, CfnValue> = trigger.fifo ? { FifoQueue: true } : {};
  return {
    [logicalIds.jobDeadLetterQueue(job.name)]: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: ctx.names.jobDeadLetterQueue(job.name, trigger.fifo),
        MessageRetentionPeriod: 1_209_600,
        MaximumMessageSize: SQS_MAX_MESSAGE_BYTES,
        SqsManagedSseEnabled: true,
        ...fifo,
      },
    },
    [logicalIds.jobQueue(job.name)]: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: ctx.names.jobQueue(job.name, trigger.fifo),
        ...queueProperties,
        MessageRetentionPeriod: Math.round(parseDuration(trigger.retention) / 1000),
        // SQS's maximum (1 MiB since 2025): a large body is accepted and spilled to the payload bucket.
        MaximumMessageSize: SQS_MAX_MESSAGE_BYTES,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: getAtt(logicalIds.jobDeadLetterQueue(job.name), 'Arn'),
          maxReceiveCount: trigger.maxReceiveCount,
        },
        ...fifo,
      },
    },
  };
}

export function compileQueue(job: Job, trigger: QueueJobTrigger, ctx: CompileContext): Resources {
  let queues: Resources = {};
  if (!trigger.existing) {
    const issue = queueVisibilityIssue(job, trigger);
    if (issue) throw new CompileError(formatJobIssue(issue));
    const visibility = Math.round(parseDuration(trigger.visibilityTimeout) / 1000);
    queues = jobQueueResources(job, trigger, ctx, { VisibilityTimeout: visibility });
  }
  return {
    ...queues,
    [logicalIds.jobQueueMapping(job.name)]: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        EventSourceArn: queueArn(job, trigger),
        FunctionName: ctx.launcherFunctionArn,
        BatchSize: trigger.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: mappingConcurrency(job) },
        Enabled: true,
      },
      // Lambda checks the function's role can read the queue when it creates the mapping.
      DependsOn: [logicalIds.lambdaRole('launcher')],
    },
  };
}
