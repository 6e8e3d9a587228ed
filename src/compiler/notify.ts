/**
 * Per job with `notify`: outcome events reach SNS without any berth code at run time.
 * - `notify.email`: one SNS topic berth owns, with the email subscriptions inline (each confirms once), and a
 *   topic policy letting EventBridge publish to it for this job's rule only (`aws:SourceArn`).
 * - One rule on berth's bus per job (`source: berth`, `detail.job`, the detail-types of `notify.on`) whose
 *   targets are the job's topics, with an input transformer that turns the event into one readable line.
 * Topics given by ARN (`notify.sns`) belong to the user: their policy must allow events.amazonaws.com to
 * publish (README, "Subscribing to outcomes").
 */
import { formatJobIssue } from '../core/errors.js';
import { EVENT_SOURCE, EVENT_TYPES, type EventType } from '../core/lifecycle/events.js';
import type { Job, NOTIFY_ON } from '../core/model/job.js';
import { type CfnValue, getAtt, type Resources, ref } from './cfn.js';
import { notifyTopicIssue } from './checks.js';
import type { CompileContext } from './context.js';
import { CompileError } from './errors.js';
import { logicalIds } from './naming.js';

export type NotifyOn = (typeof NOTIFY_ON)[number];

/** EventBridge allows 5 targets per rule. */
export const MAX_RULE_TARGETS = 5;

const NOTIFY_EVENT_TYPES: Record<NotifyOn, EventType> = {
  succeeded: EVENT_TYPES.succeeded,
  failed: EVENT_TYPES.failed,
  timed_out: EVENT_TYPES.timedOut,
  cancelled: EVENT_TYPES.cancelled,
  retrying: EVENT_TYPES.retrying,
};

export function notifyEventTypes(on: readonly NotifyOn[]): EventType[] {
  return [...new Set(on.map((state) => NOTIFY_EVENT_TYPES[state]))];
}

/** The pattern of a job's notify rule on berth's bus. */
export function notifyPattern(job: string, on: readonly NotifyOn[]): Record<string, unknown> {
  return { source: [EVENT_SOURCE], 'detail-type': notifyEventTypes(on), detail: { job: [job] } };
}

/** What a notify message says: `berth: job <job> run <runId> <status> (<outcome>, exit <code>): <reason>`. */
export const NOTIFY_INPUT_TRANSFORMER = {
  InputPathsMap: {
    job: '$.detail.job',
    runId: '$.detail.runId',
    status: '$.detail.status',
    outcome: '$.detail.outcome',
    exitCode: '$.detail.exitCode',
    reason: '$.detail.reason',
  },
  InputTemplate: 'berth: job <job> run <runId> <status> (<outcome>, exit <exitCode>): <reason>',
} as const;

/** Logical id of the i-th notify rule of a job (a sixth topic starts a second rule). */
export function notifyRuleId(job: string, index: number): string {
  return index === 0 ? logicalIds.notifyRule(job) : `${logicalIds.notifyRule(job)}${index + 1}`;
}

export function compileNotify(job: Job, ctx: CompileContext): Resources {
  const notify = job.notify;
  if (!notify) return {};
  const fifo = notifyTopicIssue(job);
  if (fifo) throw new CompileError(formatJobIssue(fifo));
  const resources: Resources = {};
  const topicId = logicalIds.notifyTopic(job.name);
  const owned = notify.email.length > 0;
  const topics: CfnValue[] = [...(owned ? [ref(topicId)] : []), ...notify.sns];
  if (!topics.length) return {};
  if (owned) {
    resources[topicId] = {
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: ctx.names.notifyTopic(job.name),
        Subscription: notify.email.map((Endpoint) => ({ Protocol: 'email', Endpoint })),
      },
    };
  }
  for (let i = 0; i * MAX_RULE_TARGETS < topics.length; i++) {
    const chunk = topics.slice(i * MAX_RULE_TARGETS, (i + 1) * MAX_RULE_TARGETS);
    const id = notifyRuleId(job.name, i);
    resources[id] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: ctx.names.notifyRule(job.name, i),
        Description: `berth: ${job.name} outcomes (${notify.on.join(', ')}) → SNS`,
        EventBusName: ref(logicalIds.eventBus),
        State: 'ENABLED',
        EventPattern: notifyPattern(job.name, notify.on) as CfnValue,
        Targets: chunk.map((Arn, j) => ({
          Id: `topic${i * MAX_RULE_TARGETS + j}`,
          Arn,
          InputTransformer: NOTIFY_INPUT_TRANSFORMER,
          RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
        })),
      },
    };
  }
  if (owned) {
    resources[logicalIds.notifyTopicPolicy(job.name)] = {
      Type: 'AWS::SNS::TopicPolicy',
      Properties: {
        Topics: [ref(topicId)],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'BerthNotifyRule',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: ref(topicId),
              // The owned topic is always a target of the first rule.
              Condition: { ArnEquals: { 'aws:SourceArn': getAtt(notifyRuleId(job.name, 0), 'Arn') } },
            },
          ],
        },
      },
    };
  }
  return resources;
}
