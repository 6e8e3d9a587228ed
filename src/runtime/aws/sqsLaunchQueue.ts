/**
 * `LaunchQueue` on SQS: delays up to 15 minutes ride on `DelaySeconds`; longer ones become a one-time
 * EventBridge Scheduler schedule `at(...)` that sends the message to the launch queue and deletes itself.
 */
import { ConflictException, CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Clock, LaunchMessage, LaunchQueue } from '../ports.js';

/** SQS `DelaySeconds` maximum. */
export const MAX_SQS_DELAY_SECONDS = 900;

export interface SqsLaunchQueueOptions {
  queueUrl: string;
  queueArn: string;
  clock: Clock;
  scheduler?: SchedulerClient;
  scheduleGroup?: string;
  schedulerRoleArn?: string;
}

/** `at()` takes `yyyy-mm-ddThh:mm:ss` without zone or fraction; berth always passes UTC. */
export function atExpression(when: Date): string {
  return `at(${when.toISOString().slice(0, 19)})`;
}

/** Schedule names are unique per group (≤ 64 characters): one per run attempt, so a repeat is a conflict. */
export function retryScheduleName(message: LaunchMessage): string {
  return `berth-${message.runId}-${message.attempt}`.slice(0, 64);
}

export class SqsLaunchQueue implements LaunchQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly options: SqsLaunchQueueOptions,
  ) {}

  async enqueue(message: LaunchMessage, delayMs: number): Promise<void> {
    const delaySeconds = Math.max(0, Math.ceil(delayMs / 1000));
    if (delaySeconds <= MAX_SQS_DELAY_SECONDS) {
      await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: this.options.queueUrl,
          MessageBody: JSON.stringify(message),
          DelaySeconds: delaySeconds,
        }),
      );
      return;
    }
    const { scheduler, schedulerRoleArn } = this.options;
    if (!scheduler || !schedulerRoleArn) {
      throw new Error(
        `a launch delay of ${delaySeconds}s needs EventBridge Scheduler, but BERTH_SCHEDULER_ROLE_ARN is not set`,
      );
    }
    const when = new Date(this.options.clock.now().getTime() + delaySeconds * 1000);
    try {
      await scheduler.send(
        new CreateScheduleCommand({
          Name: retryScheduleName(message),
          ...(this.options.scheduleGroup ? { GroupName: this.options.scheduleGroup } : {}),
          ScheduleExpression: atExpression(when),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: this.options.queueArn,
            RoleArn: schedulerRoleArn,
            Input: JSON.stringify(message),
          },
        }),
      );
    } catch (error) {
      // The same attempt scheduled twice (a redelivered stop): the first schedule stands.
      if (error instanceof ConflictException || (error as { name?: string }).name === 'ConflictException')
        return;
      throw error;
    }
  }
}
