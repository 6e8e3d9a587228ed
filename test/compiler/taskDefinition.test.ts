import { describe, expect, it } from 'vitest';
import { compileTaskDefinition } from '../../src/compiler/taskDefinition.js';
import { context, job, resource } from './helpers.js';

const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf';

describe('compileTaskDefinition', () => {
  it('writes a Fargate task definition with one essential container named main, logging to the shared group', () => {
    const ctx = context();
    const r = compileTaskDefinition(
      job({ name: 'resize', task: { image: 'img:1', cpu: 512, memory: 1024 } }),
      ctx,
    );
    expect(Object.keys(r)).toEqual(['BerthJobResizeTaskRole', 'BerthJobResizeTaskDefinition']);
    const p = resource(r, 'BerthJobResizeTaskDefinition', 'AWS::ECS::TaskDefinition').Properties!;
    expect(p).toMatchObject({
      Family: 'svc-dev__resize',
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      Cpu: '512',
      Memory: '1024',
      RuntimePlatform: { OperatingSystemFamily: 'LINUX', CpuArchitecture: 'X86_64' },
      ExecutionRoleArn: { 'Fn::GetAtt': ['BerthExecutionRole', 'Arn'] },
    });
    // Every task job has a task role: it reads the job's by-reference triggers (triggers/resize/*).
    expect(p.TaskRoleArn).toEqual({ 'Fn::GetAtt': ['BerthJobResizeTaskRole', 'Arn'] });
    const [container] = p.ContainerDefinitions as Record<string, unknown>[];
    expect(container).toMatchObject({
      Name: 'main',
      Essential: true,
      Image: 'img:1',
      LogConfiguration: {
        LogDriver: 'awslogs',
        Options: { 'awslogs-group': '/berth/svc-dev/jobs', 'awslogs-stream-prefix': 'resize' },
      },
    });
  });

  it('adds declared permissions to the task role, secrets by ARN, EFS with transit encryption, storage and ARM64', () => {
    const ctx = context();
    const r = compileTaskDefinition(
      job({
        name: 'etl',
        task: {
          image: 'img:1',
          architecture: 'arm64',
          ephemeralStorageGiB: 50,
          secrets: { DB_PASSWORD: SECRET },
          environment: { MODE: 'full' },
          permissions: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::data/*'] }],
          volumes: [
            {
              fileSystemId: 'fs-0123456789abcdef0',
              accessPointId: 'fsap-0123456789abcdef0',
              mountPath: '/mnt/a',
            },
            { fileSystemId: 'fs-0123456789abcdef1', mountPath: '/mnt/b', readOnly: true },
          ],
        },
      }),
      ctx,
    );
    const role = resource(r, 'BerthJobEtlTaskRole', 'AWS::IAM::Role').Properties!;
    expect(role.RoleName).toBe('svc-dev__task-etl');
    const statements = (role.Policies as { PolicyDocument: { Statement: { Action: string[] }[] } }[])[0]!
      .PolicyDocument.Statement;
    expect(statements.map((s) => s.Action)).toEqual([
      ['s3:GetObject'],
      ['s3:GetObject'],
      ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
    ]);
    const p = resource(r, 'BerthJobEtlTaskDefinition').Properties!;
    expect(p.TaskRoleArn).toEqual({ 'Fn::GetAtt': ['BerthJobEtlTaskRole', 'Arn'] });
    expect(p.RuntimePlatform).toEqual({ OperatingSystemFamily: 'LINUX', CpuArchitecture: 'ARM64' });
    expect(p.EphemeralStorage).toEqual({ SizeInGiB: 50 });
    expect(p.Volumes).toEqual([
      {
        Name: 'efs-0',
        EFSVolumeConfiguration: {
          FilesystemId: 'fs-0123456789abcdef0',
          TransitEncryption: 'ENABLED',
          AuthorizationConfig: { AccessPointId: 'fsap-0123456789abcdef0', IAM: 'ENABLED' },
        },
      },
      {
        Name: 'efs-1',
        EFSVolumeConfiguration: {
          FilesystemId: 'fs-0123456789abcdef1',
          TransitEncryption: 'ENABLED',
          RootDirectory: '/',
        },
      },
    ]);
    const [container] = p.ContainerDefinitions as Record<string, unknown>[];
    expect(container!.Secrets).toEqual([{ Name: 'DB_PASSWORD', ValueFrom: SECRET }]);
    expect(container!.Environment).toEqual([{ Name: 'MODE', Value: 'full' }]);
    expect(container!.MountPoints).toEqual([
      { SourceVolume: 'efs-0', ContainerPath: '/mnt/a', ReadOnly: false },
      { SourceVolume: 'efs-1', ContainerPath: '/mnt/b', ReadOnly: true },
    ]);
  });

  it('creates a per-job log group only when the retention differs from the shared default', () => {
    const ctx = context({ logRetentionDays: 30 });
    expect(
      Object.keys(compileTaskDefinition(job({ name: 'a', task: { image: 'i', logRetentionDays: 30 } }), ctx)),
    ).toEqual(['BerthJobATaskRole', 'BerthJobATaskDefinition']);
    const r = compileTaskDefinition(job({ name: 'b', task: { image: 'i', logRetentionDays: 7 } }), ctx);
    expect(resource(r, 'BerthJobBLogGroup', 'AWS::Logs::LogGroup')).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect(resource(r, 'BerthJobBLogGroup', 'AWS::Logs::LogGroup').Properties).toEqual({
      LogGroupName: '/berth/svc-dev/jobs/b',
      RetentionInDays: 7,
    });
  });
});
