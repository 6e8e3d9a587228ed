/**
 * Shared wiring of the berth Lambdas: the launch queue → launcher mapping, the ECS "task stopped" rule →
 * interceptor, and the sweeper's one-minute schedule.
 */
import { type CfnValue, getAtt, type Resources, ref, sub } from './cfn.js';
import type { CompileContext } from './context.js';
import { logicalIds } from './naming.js';

export function compileLauncherMapping(ctx: CompileContext): Resources {
  return {
    [logicalIds.launcherMapping]: {
      Type: 'AWS::Lambda::EventSourceMapping',
      DependsOn: [logicalIds.lambdaRole('launcher')],
      Properties: {
        EventSourceArn: ctx.launchQueueArn,
        FunctionName: ctx.launcherFunctionArn,
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: 1,
        // A failed record returns to the queue alone; the rest of the batch is not redelivered.
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        // Bounds RunTask calls account-wide (Fargate allows about 20 RunTask calls per second).
        ScalingConfig: { MaximumConcurrency: ctx.config.launcherConcurrency },
        Enabled: true,
      },
    },
  };
}

/**
 * The ECS event pattern: stopped tasks on berth's cluster that berth started (`startedBy` `berth/<run>`), or
 * that an ECS service started from one of this stage's task definitions: the workers of service-mode jobs
 * (`startedBy` is the deployment id there, `group` is `service:<name>`; the family prefix keeps other
 * services on a shared cluster out).
 */
export function taskStoppedPattern(ctx: CompileContext): Record<string, CfnValue> {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Task State Change'],
    detail: {
      clusterArn: [ctx.clusterArn],
      lastStatus: ['STOPPED'],
      $or: [
        { startedBy: [{ prefix: 'berth/' }] },
        {
          group: [{ prefix: 'service:' }],
          taskDefinitionArn: [
            {
              prefix: sub(
                `arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:task-definition/${ctx.names.prefix}`,
              ),
            },
          ],
        },
      ],
    },
  };
}

export function compileInterceptorRule(ctx: CompileContext): Resources {
  const fn = logicalIds.function('interceptor');
  return {
    [logicalIds.interceptorRule]: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: ctx.names.interceptorRule,
        Description: 'berth: stopped tasks → interceptor',
        State: 'ENABLED',
        EventPattern: taskStoppedPattern(ctx),
        Targets: [
          {
            Id: 'interceptor',
            Arn: getAtt(fn, 'Arn'),
            RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
          },
        ],
      },
    },
    [logicalIds.interceptorPermission]: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: ref(fn),
        Principal: 'events.amazonaws.com',
        SourceArn: getAtt(logicalIds.interceptorRule, 'Arn'),
      },
    },
  };
}

export function compileSweeperSchedule(ctx: CompileContext): Resources {
  return {
    [logicalIds.sweeperSchedule]: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Name: 'berth-sweeper',
        GroupName: ref(logicalIds.scheduleGroup),
        Description: 'berth: timeouts and lost launches',
        ScheduleExpression: 'rate(1 minute)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: getAtt(logicalIds.function('sweeper'), 'Arn'),
          RoleArn: ctx.schedulerRoleArn,
          Input: '{"type":"sweep"}',
          // A missed sweep is covered by the next one a minute later.
          RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 0 },
        },
      },
    },
  };
}
