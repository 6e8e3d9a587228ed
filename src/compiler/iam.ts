/**
 * The berth Lambdas' roles. Least privilege, stated:
 * - the launcher may `ecs:RunTask` only this stage's task-definition families, only on berth's cluster
 *   (`ecs:cluster` condition), pass only berth's execution role and this stage's task roles to ECS
 *   (`iam:PassedToService`), and tag only tasks it creates (`ecs:CreateAction = RunTask`);
 * - every `*` resource left is one AWS requires, with the reason beside it.
 * Patterns (`<base>__*`) instead of per-job lists keep each policy the same size for 3 jobs or 300: IAM caps a
 * role's inline policies at 10,240 characters.
 */
import type { Job } from '../core/model/job.js';
import { arn, type CfnValue, getAtt, type PolicyStatement, type Resources, sub } from './cfn.js';
import type { CompileContext } from './context.js';
import { taskRoleArnPattern } from './executionRole.js';
import { scheduleArnPattern } from './messaging.js';
import { type BerthFunctionKind, logicalIds } from './naming.js';
import { queueArn } from './queue.js';

const tableResources = (): CfnValue[] => [
  getAtt(logicalIds.runsTable, 'Arn'),
  sub(`\${${logicalIds.runsTable}.Arn}/index/*`),
];

const clusterCondition = (ctx: CompileContext) => ({ ArnEquals: { 'ecs:cluster': ctx.clusterArn } });

/** `arn:…:task/<cluster>/*`: the tasks of berth's cluster. */
const clusterTasks = (ctx: CompileContext): CfnValue =>
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
  sub('arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${Cluster}/*', {
    Cluster: ctx.clusterName,
  });

function common(fn: BerthFunctionKind): PolicyStatement[] {
  return [
    {
      Sid: 'OwnLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: [sub(`\${${logicalIds.functionLogGroup(fn)}.Arn}`)],
    },
    {
      Sid: 'RunsTable',
      Effect: 'Allow',
      Action: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'dynamodb:ConditionCheckItem',
        'dynamodb:BatchGetItem',
      ],
      Resource: tableResources(),
    },
    {
      Sid: 'Enqueue',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: [getAtt(logicalIds.launchQueue, 'Arn')],
    },
    {
      Sid: 'PublishOutcomes',
      Effect: 'Allow',
      Action: ['events:PutEvents'],
      Resource: [getAtt(logicalIds.eventBus, 'Arn')],
    },
  ];
}

function delayedRetries(ctx: CompileContext): PolicyStatement[] {
  return [
    {
      // Retries later than SQS's 15-minute delay become one-time schedules in berth's group.
      Sid: 'DelayedRetrySchedules',
      Effect: 'Allow',
      Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'],
      Resource: [scheduleArnPattern(ctx)],
    },
    {
      Sid: 'PassSchedulerRole',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: [ctx.schedulerRoleArn],
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    },
  ];
}

export function launcherStatements(jobs: readonly Job[], ctx: CompileContext): PolicyStatement[] {
  const existingQueues: CfnValue[] = [];
  for (const job of jobs) {
    for (const t of job.triggers) if (t.kind === 'queue' && t.existing) existingQueues.push(queueArn(job, t));
  }
  const hasOwnQueues = jobs.some((j) => j.triggers.some((t) => t.kind === 'queue' && !t.existing));
  return [
    ...common('launcher'),
    {
      Sid: 'RunBerthTasks',
      Effect: 'Allow',
      Action: ['ecs:RunTask'],
      // Every revision of this stage's families (`<base>__<job>`); RunTask by family authorizes the revision ARN.
      Resource: [arn('ecs', `task-definition/${ctx.names.prefix}*:*`)],
      Condition: clusterCondition(ctx),
    },
    {
      Sid: 'PassBerthTaskRoles',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: [ctx.executionRoleArn, taskRoleArnPattern(ctx)],
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    },
    {
      // RunTask with tags needs TagResource; the condition allows it only as part of RunTask.
      Sid: 'TagOnRunTask',
      Effect: 'Allow',
      Action: ['ecs:TagResource'],
      Resource: [clusterTasks(ctx)],
      Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    },
    {
      Sid: 'ConsumeLaunchQueues',
      Effect: 'Allow',
      Action: [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ChangeMessageVisibility',
      ],
      Resource: [
        getAtt(logicalIds.launchQueue, 'Arn'),
        ...(hasOwnQueues ? [arn('sqs', `${ctx.names.prefix}*`)] : []),
        ...existingQueues,
      ],
    },
    {
      Sid: 'TriggerPayloads',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetObject'],
      Resource: [sub(`\${${logicalIds.payloadBucket}.Arn}/*`)],
    },
    ...delayedRetries(ctx),
  ];
}

/** No sns:Publish: `notify` topics are EventBridge rule targets (notify.ts), not called by the interceptor. */
export function interceptorStatements(_jobs: readonly Job[], ctx: CompileContext): PolicyStatement[] {
  return [
    ...common('interceptor'),
    {
      Sid: 'ReadTriggerPayloads',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: [sub(`\${${logicalIds.payloadBucket}.Arn}/*`)],
    },
    ...delayedRetries(ctx),
  ];
}

export function sweeperStatements(ctx: CompileContext): PolicyStatement[] {
  return [
    ...common('sweeper'),
    {
      Sid: 'StopAndDescribeBerthTasks',
      Effect: 'Allow',
      Action: ['ecs:StopTask', 'ecs:DescribeTasks'],
      Resource: [clusterTasks(ctx)],
      Condition: clusterCondition(ctx),
    },
    {
      // ecs:ListTasks authorizes against container instances, which Fargate tasks do not have: AWS requires
      // Resource "*" here; the ecs:cluster condition keeps it to berth's cluster.
      Sid: 'FindLostLaunches',
      Effect: 'Allow',
      Action: ['ecs:ListTasks'],
      Resource: ['*'],
      Condition: clusterCondition(ctx),
    },
  ];
}

export function lambdaStatements(
  fn: BerthFunctionKind,
  jobs: readonly Job[],
  ctx: CompileContext,
): PolicyStatement[] {
  switch (fn) {
    case 'launcher':
      return launcherStatements(jobs, ctx);
    case 'interceptor':
      return interceptorStatements(jobs, ctx);
    case 'sweeper':
      return sweeperStatements(ctx);
    default: {
      const never: never = fn;
      throw new Error(`unknown function ${String(never)}`);
    }
  }
}

export function compileLambdaRole(
  fn: BerthFunctionKind,
  jobs: readonly Job[],
  ctx: CompileContext,
): Resources {
  return {
    [logicalIds.lambdaRole(fn)]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: ctx.names.lambdaRole(fn),
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
        Policies: [
          {
            PolicyName: fn,
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: lambdaStatements(fn, jobs, ctx) as unknown as CfnValue[],
            },
          },
        ],
      },
    },
  };
}
