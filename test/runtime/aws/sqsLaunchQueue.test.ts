import { ConflictException, CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { atExpression, SqsLaunchQueue } from '../../../src/runtime/aws/sqsLaunchQueue.js';
import { config, FakeClock } from './support.js';

const sqsMock = mockClient(SQSClient);
const schedulerMock = mockClient(SchedulerClient);
const clock = new FakeClock();
const queue = new SqsLaunchQueue(new SQSClient({ region: 'us-east-1' }), {
  queueUrl: config.launchQueueUrl,
  queueArn: config.launchQueueArn,
  clock,
  scheduler: new SchedulerClient({ region: 'us-east-1' }),
  scheduleGroup: 'berth-demo',
  schedulerRoleArn: config.schedulerRoleArn,
});
const message = { type: 'launch' as const, job: 'thumbnail', runId: 'r0123456789abcdefghjk', attempt: 2 };

describe('SqsLaunchQueue', () => {
  beforeEach(() => {
    sqsMock.reset();
    schedulerMock.reset();
  });

  it('delays up to 15 minutes with SQS DelaySeconds (rounded up)', async () => {
    sqsMock.on(SendMessageCommand).resolves({ MessageId: '1' });
    await queue.enqueue(message, 1500);
    await queue.enqueue(message, 900_000);
    const calls = sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(calls[0]).toEqual({
      QueueUrl: config.launchQueueUrl,
      MessageBody: JSON.stringify(message),
      DelaySeconds: 2,
    });
    expect(calls[1]?.DelaySeconds).toBe(900);
    expect(schedulerMock.calls()).toHaveLength(0);
  });

  it('delays longer with a one-time schedule that deletes itself', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await queue.enqueue(message, 3_600_000);
    expect(sqsMock.calls()).toHaveLength(0);
    expect(schedulerMock.commandCalls(CreateScheduleCommand)[0]!.args[0].input).toEqual({
      Name: 'berth-r0123456789abcdefghjk-2',
      GroupName: 'berth-demo',
      ScheduleExpression: 'at(2026-03-01T11:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: config.launchQueueArn,
        RoleArn: config.schedulerRoleArn,
        Input: JSON.stringify(message),
      },
    });
  });

  it('treats a schedule that exists already as done (a repeated retry)', async () => {
    schedulerMock
      .on(CreateScheduleCommand)
      .rejects(new ConflictException({ message: 'exists', $metadata: {}, Message: 'exists' }));
    await expect(queue.enqueue(message, 3_600_000)).resolves.toBeUndefined();
  });

  it('formats at() without zone or fraction', () => {
    expect(atExpression(new Date('2026-12-01T09:00:00.123Z'))).toBe('at(2026-12-01T09:00:00)');
  });
});
