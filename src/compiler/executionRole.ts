/**
 * Shared: the one task execution role ECS uses to pull images, write logs and read the jobs' secrets.
 * It may read exactly the secrets the jobs name and pull from exactly the ECR repositories they use.
 */
import type { Job } from '../core/model/job.js';
import { arn, type CfnValue, type PolicyStatement, type Resources, sub } from './cfn.js';
import type { CompileContext } from './context.js';
import { imageRepositoryArns } from './ecr.js';
import { logicalIds } from './naming.js';
import { ECS_TASKS_TRUST, jobHasOwnLogGroup, jobLogGroupName } from './taskDefinition.js';

const ECR_IMAGE_RE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/;

/** ECR repository ARN of an image URI, or undefined for public registries (nothing to grant). */
export function ecrRepositoryArn(image: string): string | undefined {
  const m = ECR_IMAGE_RE.exec(image);
  if (!m) return undefined;
  const partition = m[2]!.startsWith('cn-') ? 'aws-cn' : 'aws';
  return `arn:${partition}:ecr:${m[2]}:${m[1]}:repository/${m[3]}`;
}

/**
 * The IAM resource of a task-definition `valueFrom`: a Secrets Manager ARN may carry
 * `:json-key:version-stage:version-id` after the secret, and a partial ARN (no 6-character suffix) needs
 * `-??????` to match the secret's full ARN.
 */
export function secretResource(valueFrom: string): string {
  const parts = valueFrom.split(':');
  if (parts[2] !== 'secretsmanager') return valueFrom;
  const secret = parts.slice(0, 7).join(':');
  return /-[A-Za-z0-9]{6}$/.test(secret) ? secret : `${secret}-??????`;
}

export function executionRoleStatements(jobs: readonly Job[], ctx: CompileContext): PolicyStatement[] {
  const logGroups = new Set<string>([ctx.names.logGroup]);
  for (const job of jobs) if (jobHasOwnLogGroup(job, ctx)) logGroups.add(jobLogGroupName(job, ctx));
  const statements: PolicyStatement[] = [
    {
      Sid: 'WriteJobLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: [...logGroups].sort().map((g) => arn('logs', `log-group:${g}:log-stream:*`)),
    },
  ];
  const repos = [
    ...new Set(
      jobs
        .map((j) => (j.task.image === undefined ? undefined : ecrRepositoryArn(j.task.image)))
        .filter((a) => a !== undefined),
    ),
  ];
  const built = imageRepositoryArns(jobs, ctx);
  if (repos.length || built.length) {
    statements.push({
      Sid: 'PullJobImages',
      Effect: 'Allow',
      Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      Resource: [...repos.sort(), ...built],
    });
    // ecr:GetAuthorizationToken has no resource type: AWS requires Resource "*".
    statements.push({
      Sid: 'EcrLogin',
      Effect: 'Allow',
      Action: ['ecr:GetAuthorizationToken'],
      Resource: ['*'],
    });
  }
  const secrets = jobs.flatMap((j) => Object.values(j.task.secrets));
  const sm = [...new Set(secrets.filter((s) => s.includes(':secretsmanager:')).map(secretResource))].sort();
  const ssm = [...new Set(secrets.filter((s) => s.includes(':ssm:')))].sort();
  if (sm.length)
    statements.push({
      Sid: 'ReadJobSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: sm,
    });
  if (ssm.length)
    statements.push({
      Sid: 'ReadJobParameters',
      Effect: 'Allow',
      Action: ['ssm:GetParameters'],
      Resource: ssm,
    });
  // Secrets under a customer managed key: decrypt with exactly the keys the jobs name, and only when Secrets
  // Manager or SSM asks on the role's behalf (kms:ViaService), never directly.
  const keys = [...new Set(jobs.map((j) => j.task.secretsKmsKeyArn).filter((k) => k !== undefined))].sort();
  if (keys.length) {
    const via: CfnValue[] = [];
    if (sm.length) via.push(sub(`secretsmanager.\${AWS::Region}.amazonaws.com`));
    if (ssm.length) via.push(sub(`ssm.\${AWS::Region}.amazonaws.com`));
    statements.push({
      Sid: 'DecryptJobSecrets',
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: keys,
      Condition: { StringEquals: { 'kms:ViaService': via } },
    });
  }
  return statements;
}

export function compileExecutionRole(jobs: readonly Job[], ctx: CompileContext): Resources {
  return {
    [logicalIds.executionRole]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: ctx.names.executionRole,
        AssumeRolePolicyDocument: ECS_TASKS_TRUST(),
        Policies: [
          {
            PolicyName: 'execution',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: executionRoleStatements(jobs, ctx) as unknown as CfnValue[],
            },
          },
        ],
      },
    },
  };
}

/** ARN pattern of every job task role of this stage (`<base>__task-*`). */
export function taskRoleArnPattern(ctx: CompileContext): CfnValue {
  return sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${ctx.names.prefix}task-*`);
}
