/**
 * The launch queue on SQS (and EventBridge Scheduler for delays over 15 minutes) with its clients, loaded by
 * the Lambdas on first use (see `deferredQueue` in runtime.ts): a launch goes back on the queue only when it
 * must wait or is retried, so the common path of every handler never loads these two clients.
 */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { base, type ClientOptions } from './sdkClients.js';
import { SqsLaunchQueue, type SqsLaunchQueueOptions } from './sqsLaunchQueue.js';

export const createSqsClient = (options: ClientOptions) => new SQSClient(base(options));
export const createSchedulerClient = (options: ClientOptions) => new SchedulerClient(base(options));

export function createSqsLaunchQueue(
  options: ClientOptions,
  queue: Omit<SqsLaunchQueueOptions, 'scheduler'>,
  clients: { sqs?: SQSClient; scheduler?: SchedulerClient } = {},
): SqsLaunchQueue {
  return new SqsLaunchQueue(clients.sqs ?? createSqsClient(options), {
    ...queue,
    scheduler: clients.scheduler ?? createSchedulerClient(options),
  });
}
