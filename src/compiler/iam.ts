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

/** DynamoDB actions per function: exactly what its run-store calls send (a transaction is authorized per item). */
const TABLE_ACTIONS: Record<BerthFunctionKind, string[]> = {
  // createRun/createAttempt/acquireSlot put; transitions update; releaseSlot deletes; reads get and query.
  launcher: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
  ],
  // recordWorkerStop puts a service worker's run and attempt.
  interceptor: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
  ],
  // The sweeper records stops (a retry puts its event's outbox entry), releases slots and reads.
  sweeper: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
  ],
};

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
      Action: TABLE_ACTIONS[fn],
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

/**
 * Retries later than SQS's 15-minute delay become one-time schedules in berth's group (they delete
 * themselves after firing: `ActionAfterCompletion: DELETE`, so no DeleteSchedule). Every function that
 * records a stop may schedule one: the launcher (RunTask failures), the interceptor and the sweeper.
 */
function delayedRetries(ctx: CompileContext): PolicyStatement[] {
  return [
    {
      Sid: 'DelayedRetrySchedules',
      Effect: 'Allow',
      Action: ['scheduler:CreateSchedule'],
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

/** Above this many queues the launcher's grant is a name pattern with the queues it must not read denied. */
export const MAX_LISTED_QUEUES = 40;

/**
 * The queues the launcher's event source mappings read: the launch queue and every task-mode queue job's
 * queue. Never a dead-letter queue, never a service-mode job's queue (its workers read that one).
 */
export function launcherQueueStatements(jobs: readonly Job[], ctx: CompileContext): PolicyStatement[] {
  const actions = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'];
  const own: CfnValue[] = [];
  const existing: CfnValue[] = [];
  const workers: CfnValue[] = [];
  for (const job of jobs)
    for (const t of job.triggers) {
      if (t.kind !== 'queue') continue;
      if (t.mode === 'service') workers.push(queueArn(job, t));
      else if (t.existing) existing.push(queueArn(job, t));
      else own.push(queueArn(job, t));
    }
  const launch = getAtt(logicalIds.launchQueue, 'Arn');
  if (own.length <= MAX_LISTED_QUEUES)
    return [
      {
        Sid: 'ConsumeLaunchQueues',
        Effect: 'Allow',
        Action: actions,
        Resource: [launch, ...own, ...existing],
      },
    ];
  // Many queue jobs: a listed grant would outgrow IAM's 10,240-character inline policy limit. Allow berth's
  // name prefix and deny what the launcher must never read under it.
  return [
    {
      Sid: 'ConsumeLaunchQueues',
      Effect: 'Allow',
      Action: actions,
      Resource: [launch, arn('sqs', `${ctx.names.prefix}*`), ...existing],
    },
    {
      Sid: 'NotDeadLetterOrWorkerQueues',
      Effect: 'Deny',
      Action: actions,
      Resource: [
        getAtt(logicalIds.launchDeadLetterQueue, 'Arn'),
        arn('sqs', `${ctx.names.prefix}*-dlq`),
        arn('sqs', `${ctx.names.prefix}*-dlq.fifo`),
        ...workers,
      ],
    },
  ];
}

export function launcherStatements(jobs: readonly Job[], ctx: CompileContext): PolicyStatement[] {
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
    ...launcherQueueStatements(jobs, ctx),
    {
      // Large triggers are written once (on accept or launch); only the tasks read them, each its own prefix.
      Sid: 'WriteTriggerPayloads',
      Effect: 'Allow',
      Action: ['s3:PutObject'],
      Resource: [sub(`\${${logicalIds.payloadBucket}.Arn}/triggers/*`)],
    },
    ...delayedRetries(ctx),
  ];
}

/** No sns:Publish: `notify` topics are EventBridge rule targets (notify.ts), not called by the interceptor. */
export function interceptorStatements(_jobs: readonly Job[], ctx: CompileContext): PolicyStatement[] {
  return [...common('interceptor'), ...delayedRetries(ctx)];
}

/**
 * The sweeper stops tasks past their timeout (orphaned runs of a removed job too), describes tasks whose stop
 * it never saw, and records stops, which may schedule a long retry.
 */
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
    ...delayedRetries(ctx),
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
