/**
 * Per schedule trigger: one EventBridge Scheduler schedule in berth's group, in the job's time zone, that
 * sends a launch message to the shared launch queue. The scheduled time travels in the message as the
 * idempotency key, so a redelivered invocation maps to the same run.
 */
import { parseDuration } from '../core/duration.js';
import type { Job, JobTrigger } from '../core/model/job.js';
import { instantOfZonedIso } from '../core/schedule/index.js';
import { type CfnValue, getAtt, type Resources, ref } from './cfn.js';
import type { CompileContext } from './context.js';
import { logicalIds } from './naming.js';

type ScheduleJobTrigger = Extract<JobTrigger, { kind: 'schedule' }>;

export function scheduleInput(job: string, trigger: ScheduleJobTrigger): string {
  const message: Record<string, unknown> = {
    type: 'schedule',
    job,
    scheduleId: trigger.id,
    // Scheduler replaces this context attribute with the invocation's scheduled time (ISO-8601, UTC).
    scheduledTime: '<aws.scheduler.scheduled-time>',
  };
  if (trigger.payload !== undefined) message.payload = trigger.payload;
  return JSON.stringify(message);
}

export function flexibleTimeWindow(trigger: ScheduleJobTrigger): Record<string, CfnValue> {
  if (trigger.flexibleWindow === 'off') return { Mode: 'OFF' };
  return {
    Mode: 'FLEXIBLE',
    MaximumWindowInMinutes: Math.round(parseDuration(trigger.flexibleWindow) / 60_000),
  };
}

/**
 * A start/end date written in the schedule's time zone (or with an explicit offset) as UTC ISO-8601. A wall
 * time is resolved as `at(...)` times are: the earlier instant in a fall-back overlap, shifted forward by
 * the gap in a spring-forward gap.
 */
export function toUtcDate(text: string, timeZone: string): string {
  return new Date(instantOfZonedIso(text, timeZone)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function compileSchedule(
  job: Job,
  trigger: ScheduleJobTrigger,
  index: number,
  ctx: CompileContext,
): Resources {
  const props: Record<string, CfnValue> = {
    Name: ctx.names.schedule(job.name, index),
    GroupName: ref(logicalIds.scheduleGroup),
    Description: `berth: ${job.name}`,
    ScheduleExpression: trigger.expression,
    ScheduleExpressionTimezone: trigger.timezone,
    FlexibleTimeWindow: flexibleTimeWindow(trigger),
    State: 'ENABLED',
    Target: {
      Arn: ctx.launchQueueArn,
      RoleArn: ctx.schedulerRoleArn,
      Input: scheduleInput(job.name, trigger),
      // Scheduler retries for up to 24 h, then parks the invocation in the launch DLQ.
      RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
      DeadLetterConfig: { Arn: getAtt(logicalIds.launchDeadLetterQueue, 'Arn') },
      // The launch queue is a standard queue: SqsParameters (MessageGroupId) would only apply to FIFO.
    },
  };
  if (trigger.startDate) props.StartDate = toUtcDate(trigger.startDate, trigger.timezone);
  if (trigger.endDate) props.EndDate = toUtcDate(trigger.endDate, trigger.timezone);
  return { [logicalIds.schedule(job.name, index)]: { Type: 'AWS::Scheduler::Schedule', Properties: props } };
}
