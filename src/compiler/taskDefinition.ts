/**
 * Per job: the ECS task definition (one essential container, `main`), its task role, and its own log group
 * only when it asks for a retention other than the shared default. Every job that runs tasks gets a task role:
 * it may read its own trigger payloads (`triggers/<job>/*` in the payload bucket, where large triggers go),
 * plus the job's declared permissions and EFS access-point mounts.
 */
import type { Job } from '../core/model/job.js';
import { triggerPayloadPrefix } from '../runtime/aws/payloadKeys.js';
import { arn, type CfnValue, getAtt, type PolicyStatement, type Resources, ref, sub } from './cfn.js';
import type { CompileContext } from './context.js';
import { taskImage } from './ecr.js';
import { logicalIds } from './naming.js';

/** The container name every berth task definition uses; the launcher overrides it by this name. */
export const CONTAINER_NAME = 'main';

/**
 * True when berth launches this job's tasks with a trigger (every job but a service-mode worker, which reads
 * its queue itself): the task may be handed `BERTH_TRIGGER_REF`.
 */
export function jobReadsTriggerPayloads(job: Job): boolean {
  return !job.triggers.some((t) => t.kind === 'queue' && t.mode === 'service');
}

export function jobHasTaskRole(job: Job): boolean {
  return (
    jobReadsTriggerPayloads(job) ||
    job.task.permissions.length > 0 ||
    job.task.volumes.some((v) => v.accessPointId)
  );
}

/** `s3:GetObject` on the job's own payload prefix, and nothing else of the bucket. */
export function triggerPayloadStatement(job: Job): PolicyStatement {
  return {
    Sid: 'ReadOwnTriggerPayloads',
    Effect: 'Allow',
    Action: ['s3:GetObject'],
    Resource: [sub(`\${${logicalIds.payloadBucket}.Arn}/${triggerPayloadPrefix(job.name)}*`)],
  };
}

export function jobHasOwnLogGroup(job: Job, ctx: CompileContext): boolean {
  return job.task.logRetentionDays !== undefined && job.task.logRetentionDays !== ctx.config.logRetentionDays;
}

export function jobLogGroupName(job: Job, ctx: CompileContext): string {
  return jobHasOwnLogGroup(job, ctx) ? ctx.names.jobLogGroup(job.name) : ctx.names.logGroup;
}

/**
 * Data berth keeps when the stack is deleted or the resource replaced: run history and logs. A later deploy of
 * the same stage fails on the retained name until it is deleted by hand (docs/deploy.md).
 */
export const RETAIN = { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' } as const;

export const ECS_TASKS_TRUST = (): CfnValue => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: 'ecs-tasks.amazonaws.com' },
      Action: 'sts:AssumeRole',
      // Confused-deputy guard: only ECS acting for this account may assume the role.
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    },
  ],
});

/** Its trigger payloads, the job's declared statements, and EFS client access for access-point mounts. */
export function taskRoleStatements(job: Job): PolicyStatement[] {
  const statements: PolicyStatement[] = jobReadsTriggerPayloads(job) ? [triggerPayloadStatement(job)] : [];
  for (const p of job.task.permissions)
    statements.push({
      Effect: p.effect,
      Action: p.actions,
      Resource: p.resources,
      ...(p.conditions ? { Condition: p.conditions as Record<string, Record<string, CfnValue>> } : {}),
    });
  for (const v of job.task.volumes) {
    if (!v.accessPointId) continue;
    statements.push({
      Effect: 'Allow',
      Action: v.readOnly
        ? ['elasticfilesystem:ClientMount']
        : ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      Resource: [arn('elasticfilesystem', `file-system/${v.fileSystemId}`)],
      Condition: {
        StringEquals: {
          'elasticfilesystem:AccessPointArn': arn('elasticfilesystem', `access-point/${v.accessPointId}`),
        },
      },
    });
  }
  return statements;
}

export function compileTaskDefinition(job: Job, ctx: CompileContext): Resources {
  const resources: Resources = {};
  const id = logicalIds.taskDefinition(job.name);
  const task = job.task;
  const logGroupName = jobLogGroupName(job, ctx);

  if (jobHasOwnLogGroup(job, ctx)) {
    resources[logicalIds.jobLogGroup(job.name)] = {
      Type: 'AWS::Logs::LogGroup',
      ...RETAIN,
      Properties: { LogGroupName: logGroupName, RetentionInDays: task.logRetentionDays! },
    };
  }
  if (jobHasTaskRole(job)) {
    resources[logicalIds.taskRole(job.name)] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: ctx.names.taskRole(job.name),
        AssumeRolePolicyDocument: ECS_TASKS_TRUST(),
        Policies: [
          {
            PolicyName: 'job',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: taskRoleStatements(job) as unknown as CfnValue[],
            },
          },
        ],
      },
    };
  }

  const container: Record<string, CfnValue> = {
    Name: CONTAINER_NAME,
    Image: taskImage(job),
    Essential: true,
    LogConfiguration: {
      LogDriver: 'awslogs',
      Options: {
        'awslogs-group': logGroupName,
        'awslogs-region': ref('AWS::Region'),
        'awslogs-stream-prefix': job.name,
      },
    },
  };
  if (task.command) container.Command = task.command;
  if (task.entryPoint) container.EntryPoint = task.entryPoint;
  const env = Object.entries(task.environment);
  if (env.length) container.Environment = env.map(([Name, Value]) => ({ Name, Value }));
  const secrets = Object.entries(task.secrets);
  if (secrets.length) container.Secrets = secrets.map(([Name, ValueFrom]) => ({ Name, ValueFrom }));
  if (task.volumes.length) {
    container.MountPoints = task.volumes.map((v, i) => ({
      SourceVolume: `efs-${i}`,
      ContainerPath: v.mountPath,
      ReadOnly: v.readOnly,
    }));
  }

  const props: Record<string, CfnValue> = {
    Family: ctx.names.taskFamily(job.name),
    RequiresCompatibilities: ['FARGATE'],
    NetworkMode: 'awsvpc',
    Cpu: String(task.cpu),
    Memory: String(task.memory),
    RuntimePlatform: {
      OperatingSystemFamily: 'LINUX',
      CpuArchitecture: task.architecture === 'arm64' ? 'ARM64' : 'X86_64',
    },
    ExecutionRoleArn: ctx.executionRoleArn,
    ContainerDefinitions: [container],
    Tags: [
      { Key: 'berth:job', Value: job.name },
      { Key: 'berth:service', Value: ctx.names.base },
    ],
  };
  if (jobHasTaskRole(job)) props.TaskRoleArn = getAtt(logicalIds.taskRole(job.name), 'Arn');
  if (task.ephemeralStorageGiB !== undefined)
    props.EphemeralStorage = { SizeInGiB: task.ephemeralStorageGiB };
  if (task.volumes.length) {
    props.Volumes = task.volumes.map((v, i) => ({
      Name: `efs-${i}`,
      EFSVolumeConfiguration: {
        FilesystemId: v.fileSystemId,
        // Transit encryption is always on; an access point mounts with the task role (IAM authorization).
        TransitEncryption: 'ENABLED',
        ...(v.accessPointId
          ? { AuthorizationConfig: { AccessPointId: v.accessPointId, IAM: 'ENABLED' } }
          : { RootDirectory: v.rootDirectory ?? '/' }),
      },
    }));
  }
  resources[id] = {
    Type: 'AWS::ECS::TaskDefinition',
    Properties: props,
    ...(jobHasOwnLogGroup(job, ctx) ? { DependsOn: [logicalIds.jobLogGroup(job.name)] } : {}),
  };
  return resources;
}
