// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings are expected values here
/**
 * Every statement of every role berth writes, with its actions and resources rendered readably. A change
 * to any policy shows up here first. `*` appears only where AWS requires it (ecr:GetAuthorizationToken).
 */
import { describe, expect, it } from 'vitest';
import type { CfnValue, PolicyStatement } from '../../src/compiler/cfn.js';
import { compileService } from '../../src/compiler/compile.js';
import { job } from './helpers.js';

function show(v: CfnValue): string {
  if (typeof v === 'string') return v;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return JSON.stringify(v);
  if ('Ref' in v) return `<${v.Ref}>`;
  if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Fn::Sub' in v) {
    const sub = v['Fn::Sub'];
    if (typeof sub === 'string') return sub;
    const [text, vars] = sub as [string, Record<string, CfnValue>];
    return text.replace(/\$\{(\w+)\}/g, (m, k: string) => (k in vars ? show(vars[k]!) : m));
  }
  return JSON.stringify(v);
}

const compiled = compileService({
  service: 'shop',
  stage: 'dev',
  jobs: [
    job({
      name: 'resize',
      trigger: { s3: { bucket: 'uploads', prefix: 'in/' } },
      task: {
        image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/resizer:1',
        secrets: {
          TOKEN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:api-token:password::',
          KEY: 'arn:aws:ssm:us-east-1:123456789012:parameter/shop/key',
        },
        permissions: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::uploads/*'] }],
      },
      notify: { sns: ['arn:aws:sns:us-east-1:123456789012:ops'] },
    }),
    job({ name: 'orders', trigger: { queue: {} } }),
    job({ name: 'legacy', trigger: { queue: { existing: 'arn:aws:sqs:us-east-1:123456789012:legacy-in' } } }),
  ],
});

function statements(
  roleId: string,
): { Sid?: string; Action: string[]; Resource: string[]; Condition?: string }[] {
  const role = compiled.resources[roleId]!;
  const policies = role.Properties!.Policies as unknown as {
    PolicyDocument: { Statement: PolicyStatement[] };
  }[];
  return policies.flatMap((p) =>
    p.PolicyDocument.Statement.map((s) => ({
      Sid: s.Sid,
      Action: s.Action,
      Resource: s.Resource.map(show),
      ...(s.Condition
        ? {
            Condition: Object.entries(s.Condition)
              .map(([op, kv]) => `${op} ${Object.entries(kv).map(([k, v]) => `${k}=${show(v)}`)}`)
              .join('; '),
          }
        : {}),
    })),
  );
}

const P = 'arn:${AWS::Partition}';
const R = '${AWS::Region}:${AWS::AccountId}';
const TABLE = {
  Launcher: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
  ],
  Interceptor: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
  ],
  Sweeper: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
  ],
};
const COMMON = (fn: keyof typeof TABLE) => [
  {
    Sid: 'OwnLogs',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: [`\${Berth${fn}LogGroup.Arn}`],
  },
  {
    Sid: 'RunsTable',
    Action: TABLE[fn],
    Resource: ['<BerthRunsTable.Arn>', '${BerthRunsTable.Arn}/index/*'],
  },
  { Sid: 'Enqueue', Action: ['sqs:SendMessage'], Resource: ['<BerthLaunchQueue.Arn>'] },
  { Sid: 'PublishOutcomes', Action: ['events:PutEvents'], Resource: ['<BerthEventBus.Arn>'] },
];
const RETRY_SCHEDULES = [
  {
    Sid: 'DelayedRetrySchedules',
    Action: ['scheduler:CreateSchedule'],
    Resource: [`${P}:scheduler:${R}:schedule/shop-dev/*`],
  },
  {
    Sid: 'PassSchedulerRole',
    Action: ['iam:PassRole'],
    Resource: ['<BerthSchedulerRole.Arn>'],
    Condition: 'StringEquals iam:PassedToService=scheduler.amazonaws.com',
  },
];
const CLUSTER = 'ArnEquals ecs:cluster=<BerthCluster.Arn>';

describe('IAM statements', () => {
  it('launcher: RunTask on berth families in berth cluster, PassRole to ECS only, TagResource on RunTask only', () => {
    expect(statements('BerthLauncherRole')).toEqual([
      ...COMMON('Launcher'),
      {
        Sid: 'RunBerthTasks',
        Action: ['ecs:RunTask'],
        Resource: [`${P}:ecs:${R}:task-definition/shop-dev__*:*`],
        Condition: CLUSTER,
      },
      {
        Sid: 'PassBerthTaskRoles',
        Action: ['iam:PassRole'],
        Resource: ['<BerthExecutionRole.Arn>', `${P}:iam::\${AWS::AccountId}:role/shop-dev__task-*`],
        Condition: 'StringEquals iam:PassedToService=ecs-tasks.amazonaws.com',
      },
      {
        Sid: 'TagOnRunTask',
        Action: ['ecs:TagResource'],
        Resource: [`${P}:ecs:${R}:task/<BerthCluster>/*`],
        Condition: 'StringEquals ecs:CreateAction=RunTask',
      },
      {
        // Exactly the queues its mappings read: not the DLQs, not a service-mode job's queue.
        Sid: 'ConsumeLaunchQueues',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Resource: [
          '<BerthLaunchQueue.Arn>',
          '<BerthJobOrdersQueue.Arn>',
          'arn:aws:sqs:us-east-1:123456789012:legacy-in',
        ],
      },
      {
        Sid: 'WriteTriggerPayloads',
        Action: ['s3:PutObject'],
        Resource: ['${BerthPayloadBucket.Arn}/triggers/*'],
      },
      ...RETRY_SCHEDULES,
    ]);
  });

  it('interceptor: records, re-enqueues, schedules late retries, publishes; no sns:Publish (notify is a rule)', () => {
    expect(statements('BerthInterceptorRole')).toEqual([...COMMON('Interceptor'), ...RETRY_SCHEDULES]);
  });

  it('sweeper: stops and describes tasks of berth cluster, schedules long retries; no ListTasks', () => {
    expect(statements('BerthSweeperRole')).toEqual([
      ...COMMON('Sweeper'),
      {
        Sid: 'StopAndDescribeBerthTasks',
        Action: ['ecs:StopTask', 'ecs:DescribeTasks'],
        Resource: [`${P}:ecs:${R}:task/<BerthCluster>/*`],
        Condition: CLUSTER,
      },
      ...RETRY_SCHEDULES,
    ]);
  });

  it('execution role: logs, exactly the ECR repositories and secrets the jobs name', () => {
    expect(statements('BerthExecutionRole')).toEqual([
      {
        Sid: 'WriteJobLogs',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [`${P}:logs:${R}:log-group:/berth/shop-dev/jobs:log-stream:*`],
      },
      {
        Sid: 'PullJobImages',
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        Resource: ['arn:aws:ecr:us-east-1:123456789012:repository/resizer'],
      },
      // ecr:GetAuthorizationToken has no resource type: AWS requires "*".
      { Sid: 'EcrLogin', Action: ['ecr:GetAuthorizationToken'], Resource: ['*'] },
      {
        Sid: 'ReadJobSecrets',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:api-token-??????'],
      },
      {
        Sid: 'ReadJobParameters',
        Action: ['ssm:GetParameters'],
        Resource: ['arn:aws:ssm:us-east-1:123456789012:parameter/shop/key'],
      },
    ]);
  });

  it('scheduler role: sends to the launch queues and invokes the sweeper', () => {
    expect(statements('BerthSchedulerRole')).toEqual([
      {
        Sid: 'SendLaunches',
        Action: ['sqs:SendMessage'],
        Resource: ['<BerthLaunchQueue.Arn>', '<BerthLaunchDeadLetterQueue.Arn>'],
      },
      {
        Sid: 'RunSweeper',
        Action: ['lambda:InvokeFunction'],
        Resource: [`${P}:lambda:${R}:function:shop-dev-berth-sweeper`],
      },
    ]);
  });

  it('job task role: its own trigger payloads, then the declared statements; every task job has one', () => {
    const payloads = (job: string) => ({
      Sid: 'ReadOwnTriggerPayloads',
      Action: ['s3:GetObject'],
      Resource: [`\${BerthPayloadBucket.Arn}/triggers/${job}/*`],
    });
    expect(statements('BerthJobResizeTaskRole')).toEqual([
      payloads('resize'),
      { Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::uploads/*'] },
    ]);
    // A job without permissions still gets a role that may read its by-reference triggers (and no more).
    expect(statements('BerthJobOrdersTaskRole')).toEqual([payloads('orders')]);
    expect(compiled.resources.BerthJobOrdersTaskDefinition?.Properties?.TaskRoleArn).toEqual({
      'Fn::GetAtt': ['BerthJobOrdersTaskRole', 'Arn'],
    });
  });

  it('trusts only the intended services, with the account as confused-deputy guard', () => {
    const trust = (id: string) =>
      (
        compiled.resources[id]!.Properties!.AssumeRolePolicyDocument as {
          Statement: Record<string, unknown>[];
        }
      ).Statement[0];
    expect(trust('BerthExecutionRole')).toMatchObject({
      Principal: { Service: 'ecs-tasks.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect(trust('BerthSchedulerRole')).toMatchObject({ Principal: { Service: 'scheduler.amazonaws.com' } });
    expect(trust('BerthLauncherRole')).toMatchObject({ Principal: { Service: 'lambda.amazonaws.com' } });
  });

  it('the only * resource is the one AWS requires', () => {
    const stars = Object.entries(compiled.resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .flatMap(([id]) =>
        statements(id)
          .filter((s) => s.Resource.includes('*'))
          .map((s) => s.Action.join(',')),
      );
    expect(stars.sort()).toEqual(['ecr:GetAuthorizationToken']);
  });
});
