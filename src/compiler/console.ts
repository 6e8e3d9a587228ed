/**
 * The runs console's IAM (`berth console --stage`, and the console on App Runner): exactly the reads the
 * pages make and the actions its buttons take, nothing else. Two users of the same list:
 * - the App Runner instance role (src/compiler/appRunner.ts), and
 * - `BerthConsolePolicy`, a customer managed policy every stack carries (no cost) and outputs as
 *   `BerthConsolePolicyArn`, for the people who run `berth console --stage` from their machine (it adds
 *   `cloudformation:DescribeStacks` on the stack, which the console reads to find the runs table, the launch
 *   queue and the cluster; the App Runner entry gets those from its environment instead).
 *
 * Reads: the runs table (GetItem, Query), the jobs' CloudWatch log streams (GetLogEvents), the queues'
 * depths (GetQueueAttributes, GetQueueUrl), tasks and worker services (ECS Describe*, ListServices).
 * Actions: replay and run-now put a message on the launch queue (SendMessage); cancel is StopTask (the
 * interceptor records the stop), or for a run without a task yet one conditional UpdateItem that ends it;
 * redrive moves a dead-letter queue's messages back to its queue (ReceiveMessage + DeleteMessage on the
 * dead-letter queues, SendMessage on the job queues). test/console/iam.test.ts checks the list against the
 * SDK commands the console's code can send.
 */
import type { Job } from '../core/model/job.js';
import { arn, type CfnValue, getAtt, type PolicyStatement, type Resources, ref, sub } from './cfn.js';
import type { CompileContext } from './context.js';
import { logicalIds } from './naming.js';
import { queueArn } from './queue.js';

/** Logical id and output of the managed policy a person attaches to run `berth console --stage`. */
export const CONSOLE_POLICY_ID = 'BerthConsolePolicy';
export const CONSOLE_POLICY_OUTPUT = 'BerthConsolePolicyArn';

/** What the statements refer to: the stage's names and cluster, and the jobs (existing queues are outside the stage's prefix). */
export type ConsoleGrantContext = Pick<CompileContext, 'names' | 'clusterArn' | 'clusterName'>;

/** Queues a job names by ARN or name instead of berth creating them (`trigger.queue.existing`). */
function existingQueues(jobs: readonly Job[]): CfnValue[] {
  const out: CfnValue[] = [];
  for (const job of jobs)
    for (const t of job.triggers) if (t.kind === 'queue' && t.existing) out.push(queueArn(job, t));
  return out;
}

/**
 * The console's statements. `jobs` adds the existing queues the jobs read (their depth is shown and their
 * dead letters can be redriven back to them; berth cannot name their dead-letter queues, so moving those
 * needs a grant of your own: see docs/dashboard.md).
 */
export function consoleStatements(ctx: ConsoleGrantContext, jobs: readonly Job[] = []): PolicyStatement[] {
  const { names } = ctx;
  const clusterCondition = { ArnEquals: { 'ecs:cluster': ctx.clusterArn } };
  const existing = existingQueues(jobs);
  return [
    {
      Sid: 'ReadRuns',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:Query'],
      Resource: [getAtt(logicalIds.runsTable, 'Arn'), sub(`\${${logicalIds.runsTable}.Arn}/index/*`)],
    },
    {
      // Cancelling a run that has no task yet (queued, retrying) ends it in the table: one conditional update.
      Sid: 'CancelQueuedRuns',
      Effect: 'Allow',
      Action: ['dynamodb:UpdateItem'],
      Resource: [getAtt(logicalIds.runsTable, 'Arn')],
    },
    {
      // The shared jobs log group and the per-job ones (`/berth/<base>/jobs/<job>`), their streams included.
      Sid: 'ReadJobLogs',
      Effect: 'Allow',
      Action: ['logs:GetLogEvents'],
      Resource: [arn('logs', `log-group:${names.logGroup}:*`), arn('logs', `log-group:${names.logGroup}/*`)],
    },
    {
      // Cancel is StopTask on one of berth's tasks; DescribeTasks finds a task's definition (its log stream).
      Sid: 'DescribeAndStopBerthTasks',
      Effect: 'Allow',
      Action: ['ecs:DescribeTasks', 'ecs:StopTask'],
      Resource: [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
        sub('arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${Cluster}/*', {
          Cluster: ctx.clusterName,
        }),
      ],
      Condition: clusterCondition,
    },
    {
      // Worker counts of service-mode jobs (their ECS services get generated names in berth's cluster).
      Sid: 'DescribeWorkerServices',
      Effect: 'Allow',
      Action: ['ecs:DescribeServices'],
      Resource: [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
        sub('arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/${Cluster}/*', {
          Cluster: ctx.clusterName,
        }),
      ],
      Condition: clusterCondition,
    },
    {
      // ListServices has no resource type: AWS requires "*". `IfExists`: the cluster condition holds whenever
      // the request carries the key, and a request without it (a list is metadata only) is not refused.
      Sid: 'ListWorkerServices',
      Effect: 'Allow',
      Action: ['ecs:ListServices'],
      Resource: ['*'],
      Condition: { ArnEqualsIfExists: { 'ecs:cluster': ctx.clusterArn } },
    },
    {
      // DescribeTaskDefinition has no resource-level permissions: AWS requires "*". It reads the awslogs
      // options (log group, stream prefix) of an attempt's task.
      Sid: 'DescribeTaskDefinitions',
      Effect: 'Allow',
      Action: ['ecs:DescribeTaskDefinition'],
      Resource: ['*'],
    },
    {
      Sid: 'ReadQueueDepths',
      Effect: 'Allow',
      Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      Resource: [arn('sqs', `${names.prefix}*`), ...existing],
    },
    {
      // Replay and run-now (launch queue), and a redrive's messages back to their job queue.
      Sid: 'SendLaunchesAndRedrives',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: [arn('sqs', `${names.prefix}*`), ...existing],
    },
    {
      // Redrive takes the messages out of the dead-letter queues (the launch queue's is `<prefix>launch-dlq`).
      Sid: 'MoveDeadLetters',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'],
      Resource: [arn('sqs', `${names.prefix}*-dlq`), arn('sqs', `${names.prefix}*-dlq.fifo`)],
    },
  ];
}

/** The managed policy for people (console statements + reading the stack's outputs) and its output. */
export function compileConsolePolicy(
  ctx: CompileContext,
  jobs: readonly Job[],
): { resources: Resources; outputs: Record<string, { Description: string; Value: CfnValue }> } {
  const statements: PolicyStatement[] = [
    ...consoleStatements(ctx, jobs),
    {
      Sid: 'FindStackResources',
      Effect: 'Allow',
      Action: ['cloudformation:DescribeStacks'],
      Resource: [ref('AWS::StackId')],
    },
  ];
  return {
    resources: {
      [CONSOLE_POLICY_ID]: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          Description: `berth console --stage ${ctx.names.stage} for ${ctx.names.service}: read runs, logs, queues and tasks; replay, cancel, redrive`,
          PolicyDocument: { Version: '2012-10-17', Statement: statements as unknown as CfnValue[] },
        },
      },
    },
    outputs: {
      [CONSOLE_POLICY_OUTPUT]: {
        Description: 'Attach to the people (or roles) who run berth console --stage against this stage',
        Value: ref(CONSOLE_POLICY_ID),
      },
    },
  };
}
