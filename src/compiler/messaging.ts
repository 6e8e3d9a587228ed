/**
 * Shared: the launch queue every trigger goes through (with its dead-letter queue and an alarm on it), the
 * queue policy that lets berth's EventBridge rules send to it, berth's event bus, the schedule group with its
 * role, the payload bucket for oversized triggers, and the jobs' shared log group.
 */
import { arn, type CfnValue, getAtt, type PolicyStatement, type Resources, ref, sub } from './cfn.js';
import { LAUNCHER_TIMEOUT_SECONDS } from './config.js';
import type { CompileContext } from './context.js';
import { logicalIds } from './naming.js';

/** Logical id of the alarm on the launch dead-letter queue. */
export const LAUNCH_DLQ_ALARM = 'BerthLaunchDeadLetterAlarm';

/** Its name: the stage's prefix, so `aws cloudwatch describe-alarms --alarm-name-prefix` finds it. */
export function launchDeadLetterAlarmName(ctx: CompileContext): string {
  return `${ctx.names.launchDeadLetterQueue}-not-empty`;
}

export function compileLaunchQueue(ctx: CompileContext): Resources {
  return {
    [logicalIds.launchDeadLetterQueue]: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: ctx.names.launchDeadLetterQueue,
        MessageRetentionPeriod: 1_209_600,
        SqsManagedSseEnabled: true,
      },
    },
    [logicalIds.launchQueue]: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: ctx.names.launchQueue,
        // Lambda's advice for SQS sources: at least 6× the function timeout.
        VisibilityTimeout: 6 * LAUNCHER_TIMEOUT_SECONDS,
        MessageRetentionPeriod: 1_209_600,
        // SSE-SQS (not KMS): EventBridge and Scheduler can send without a key policy.
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: getAtt(logicalIds.launchDeadLetterQueue, 'Arn'),
          // ≥ 5 so throttled launcher invocations do not dead-letter a trigger.
          maxReceiveCount: 10,
        },
      },
    },
    // A message in the launch DLQ is a trigger that never became a run (10 failed receives, or EventBridge
    // and Scheduler giving up on delivery): say so at once. The launcher logs each failure's reason;
    // `berth redrive launch-queue --stage` moves the messages back.
    [LAUNCH_DLQ_ALARM]: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: launchDeadLetterAlarmName(ctx),
        AlarmDescription:
          'berth: triggers are waiting in the launch dead-letter queue — see the launcher log for why, then berth redrive launch-queue --stage <stage>',
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: getAtt(logicalIds.launchDeadLetterQueue, 'QueueName') }],
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    },
    [logicalIds.launchQueuePolicy]: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [ref(logicalIds.launchQueue), ref(logicalIds.launchDeadLetterQueue)],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'BerthRulesSend',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: [
                getAtt(logicalIds.launchQueue, 'Arn'),
                getAtt(logicalIds.launchDeadLetterQueue, 'Arn'),
              ],
              // Only this stage's rules (their names all start with `<base>__`).
              Condition: { ArnLike: { 'aws:SourceArn': arn('events', `rule/${ctx.names.prefix}*`) } },
            },
          ],
        },
      },
    },
  };
}

export function compileEventBus(ctx: CompileContext): Resources {
  return {
    [logicalIds.eventBus]: { Type: 'AWS::Events::EventBus', Properties: { Name: ctx.names.eventBus } },
  };
}

export function compileLogGroup(ctx: CompileContext): Resources {
  return {
    [logicalIds.logGroup]: {
      Type: 'AWS::Logs::LogGroup',
      // The jobs' output outlives the stack (kept for its retention); see docs/deploy.md.
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { LogGroupName: ctx.names.logGroup, RetentionInDays: ctx.config.logRetentionDays },
    },
  };
}

export function compilePayloadBucket(ctx: CompileContext): Resources {
  return {
    [logicalIds.payloadBucket]: {
      Type: 'AWS::S3::Bucket',
      Properties: {
        // No BucketName: bucket names are global, CloudFormation picks a unique one.
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [
            { Id: 'expire-payloads', Status: 'Enabled', ExpirationInDays: ctx.config.payloadRetentionDays },
          ],
        },
      },
    },
    [logicalIds.payloadBucketPolicy]: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: ref(logicalIds.payloadBucket),
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              // Trigger payloads never travel in clear text: any request without TLS is refused.
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [
                getAtt(logicalIds.payloadBucket, 'Arn'),
                sub(`\${${logicalIds.payloadBucket}.Arn}/*`),
              ],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },
  };
}

export function compileScheduler(ctx: CompileContext): Resources {
  return {
    [logicalIds.scheduleGroup]: {
      Type: 'AWS::Scheduler::ScheduleGroup',
      Properties: { Name: ctx.names.scheduleGroup },
    },
    [logicalIds.schedulerRole]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: ctx.names.schedulerRole,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'scheduler.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
            },
          ],
        },
        Policies: [
          {
            PolicyName: 'scheduler',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: schedulerRoleStatements(ctx) as unknown as CfnValue[],
            },
          },
        ],
      },
    },
  };
}

export function schedulerRoleStatements(ctx: CompileContext): PolicyStatement[] {
  return [
    {
      Sid: 'SendLaunches',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: [getAtt(logicalIds.launchQueue, 'Arn'), getAtt(logicalIds.launchDeadLetterQueue, 'Arn')],
    },
    {
      Sid: 'RunSweeper',
      Effect: 'Allow',
      Action: ['lambda:InvokeFunction'],
      // By name, not GetAtt: the sweeper's environment names this role, so a reference would be a cycle.
      Resource: [arn('lambda', `function:${ctx.names.functionName('sweeper')}`)],
    },
  ];
}

/** The ARN pattern of every schedule in berth's group (one-time retry schedules included). */
export function scheduleArnPattern(ctx: CompileContext) {
  return sub(
    `arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/${ctx.names.scheduleGroup}/*`,
  );
}
