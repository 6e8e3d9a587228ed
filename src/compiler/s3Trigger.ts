/**
 * Per S3 trigger: one EventBridge rule on the default bus (S3 sends there) matching `Object Created` for the
 * bucket and key filter, whose target is berth's shared launch queue.
 */
import type { Job, JobTrigger } from '../core/model/job.js';
import type { CfnValue, Resources } from './cfn.js';
import type { CompileContext } from './context.js';
import { logicalIds } from './naming.js';

type S3JobTrigger = Extract<JobTrigger, { kind: 's3' }>;

/** EventBridge wildcard patterns treat `*` and `\` as special; escape literal ones. */
function escapeWildcard(text: string): string {
  return text.replace(/[\\*]/g, (c) => `\\${c}`);
}

/**
 * The key filter. Values in one array are ORed by EventBridge, so prefix AND suffix must be one `wildcard`
 * (`images/*.jpg`). A prefix or a suffix alone uses the cheaper `prefix`/`suffix` operator.
 */
export function keyFilter(trigger: Pick<S3JobTrigger, 'prefix' | 'suffix'>): CfnValue[] | undefined {
  const { prefix, suffix } = trigger;
  if (prefix && suffix) return [{ wildcard: `${escapeWildcard(prefix)}*${escapeWildcard(suffix)}` }];
  if (prefix) return [{ prefix }];
  if (suffix) return [{ suffix }];
  return undefined;
}

export function s3EventPattern(trigger: S3JobTrigger): Record<string, CfnValue> {
  const key = keyFilter(trigger);
  return {
    source: ['aws.s3'],
    'detail-type': [...trigger.events],
    detail: {
      bucket: { name: [trigger.bucket] },
      ...(key ? { object: { key } } : {}),
    },
  };
}

/** The launch-queue message (see src/runtime/aws/messages.ts, the launcher's parser). */
export function s3InputTemplate(job: string): string {
  // <aws.events.event.json> is the whole event including `detail`; <aws.events.event> omits `detail`.
  return `{"type":"s3","job":${JSON.stringify(job)},"event":<aws.events.event.json>}`;
}

export function compileS3Trigger(
  job: Job,
  trigger: S3JobTrigger,
  index: number,
  ctx: CompileContext,
): Resources {
  return {
    [logicalIds.s3Rule(job.name, index)]: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: ctx.names.s3Rule(job.name, index),
        Description:
          `berth: ${job.name} on s3://${trigger.bucket}/${trigger.prefix ?? ''}*${trigger.suffix ?? ''}`.slice(
            0,
            512,
          ),
        State: 'ENABLED',
        EventPattern: s3EventPattern(trigger),
        Targets: [
          {
            Id: 'launch-queue',
            Arn: ctx.launchQueueArn,
            InputTransformer: { InputTemplate: s3InputTemplate(job.name) },
            // EventBridge retries for 24 h, then parks the event in the launch DLQ: a trigger is never dropped.
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIds.launchDeadLetterQueue, 'Arn'] } },
          },
        ],
      },
    },
  };
}
