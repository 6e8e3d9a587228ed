/**
 * Shared, only with `custom.berth.capacity.ec2`: an EC2 capacity provider for jobs that choose
 * `capacity: { provider: 'ec2' }`.
 *
 * An Auto Scaling group of ECS-optimised Amazon Linux 2023 instances (AMI id from AWS's public SSM parameter,
 * launch template with user data that joins berth's cluster, instance profile with the ECS agent's managed
 * policy), optionally mixing on-demand and Spot, behind an `AWS::ECS::CapacityProvider` with managed scaling
 * and managed termination protection.
 *
 * The trap this file exists for: ECS service auto scaling (and RunTask) only changes how many *tasks* are
 * wanted. When no instance has room, the extra tasks sit in PROVISIONING; nothing in task scaling starts an
 * instance. The capacity provider's managed scaling watches those waiting tasks (its CapacityProviderReservation
 * metric) and grows the Auto Scaling group; managed termination protection keeps it from terminating an
 * instance that still runs tasks when it shrinks.
 */
import { z } from 'zod';
import type { JobIssue } from '../core/errors.js';
import type { Job } from '../core/model/job.js';
import { isEc2Capacity } from '../core/model/task.js';
import { type CfnValue, getAtt, type Resources, ref, sub } from './cfn.js';
import type { BerthConfig } from './config.js';
import type { CompileContext } from './context.js';
import { CompileError } from './errors.js';
import { logicalIds } from './naming.js';
import { taskNetwork } from './network.js';

/** AWS's public SSM parameters for the recommended ECS-optimised Amazon Linux 2023 AMI. */
export const ECS_AMI_PARAMETER = {
  x86_64: '/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id',
  arm64: '/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id',
} as const;

/** The managed policy the ECS container agent needs on the instance (register, poll, pull from ECR, logs). */
export const ECS_INSTANCE_POLICY = `arn:\${AWS::Partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role`;

const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;

/**
 * `custom.berth.capacity.ec2`.
 * @example { instanceTypes: ['m7i.large', 'm6i.large'], maxSize: 20, spot: { onDemandPercentageAboveBase: 25 } }
 */
export const ec2CapacityConfigSchema = z.strictObject({
  /** Instance types the group may launch (several types widen the Spot pools). */
  instanceTypes: z
    .array(
      z.string().regex(INSTANCE_TYPE_RE, { error: 'is not an EC2 instance type — write it like m7i.large' }),
    )
    .min(1)
    .max(40),
  /** CPU architecture of those types; picks the AMI. @default 'x86_64' */
  architecture: z.enum(['x86_64', 'arm64']).default('x86_64'),
  /** Fewest instances (0 lets the group empty when no task runs). @default 0 */
  minSize: z.number().int().min(0).default(0),
  /** Most instances. @default 10 */
  maxSize: z.number().int().min(1).default(10),
  /**
   * Managed scaling target: percent of the instances' capacity that tasks should use (100 = no spare room,
   * lower keeps headroom so new tasks start without waiting for an instance). @default 100
   */
  targetCapacity: z.number().int().min(1).max(100).default(100),
  /** Seconds a new instance needs before it counts (managed scaling). @default 300 */
  instanceWarmupSeconds: z.number().int().min(0).max(10_000).default(300),
  /** Mixes on-demand and Spot instances. Omit for on-demand only. */
  spot: z
    .strictObject({
      /** On-demand instances before any Spot. @default 0 */
      onDemandBaseCapacity: z.number().int().min(0).default(0),
      /** Percent on-demand above the base (0 = all Spot). @default 0 */
      onDemandPercentageAboveBase: z.number().int().min(0).max(100).default(0),
      /** @default 'price-capacity-optimized' */
      allocationStrategy: z
        .enum(['price-capacity-optimized', 'capacity-optimized', 'lowest-price'])
        .default('price-capacity-optimized'),
    })
    .optional(),
});

/** `custom.berth.capacity`. */
export const capacityConfigSchema = z.strictObject({
  ec2: ec2CapacityConfigSchema.optional(),
});

export type Ec2CapacityConfig = z.output<typeof ec2CapacityConfigSchema>;
export type CapacityConfig = z.output<typeof capacityConfigSchema>;

/** Logical ids of the EC2 capacity resources. */
export const ec2LogicalIds = {
  instanceRole: 'BerthEc2InstanceRole',
  instanceProfile: 'BerthEc2InstanceProfile',
  launchTemplate: 'BerthEc2LaunchTemplate',
  autoScalingGroup: 'BerthEc2AutoScalingGroup',
  capacityProvider: 'BerthEc2CapacityProvider',
} as const;

/**
 * Physical name of the EC2 capacity provider. Fixed at compile time because the launcher reads it from the
 * manifest bundled into the Lambdas (RunTask names the provider in its strategy). Names may not start with
 * `aws`, `ecs` or `fargate`, and a service may well be called `ecs-jobs`, hence the `berth-` lead.
 */
export function ec2CapacityProviderName(ctx: Pick<CompileContext, 'names'>): string {
  return `berth-${ctx.names.base}-ec2`;
}

/** The name of the EC2 capacity provider when the service declares one (for the manifest). */
export function ec2CapacityProviderNameOf(ctx: Pick<CompileContext, 'names' | 'config'>): string | undefined {
  return ec2ConfigOf(ctx.config) ? ec2CapacityProviderName(ctx) : undefined;
}

/** The capacity provider strategy of a job that runs on EC2. */
export function ec2CapacityProviderStrategy(): CfnValue[] {
  return [{ CapacityProvider: ref(ec2LogicalIds.capacityProvider), Weight: 1 }];
}

function ec2ConfigOf(config: BerthConfig): Ec2CapacityConfig | undefined {
  return config.capacity?.ec2;
}

/**
 * Service-level checks for EC2 capacity, as issues (`configFile` names where `custom.berth` lives).
 * A job on `{ provider: 'ec2' }` needs `custom.berth.capacity.ec2`, berth's own cluster, an architecture the
 * instances have, and no Fargate-only settings. Run by `berth validate` and the compiler (checks.ts).
 */
export function capacityIssues(jobs: readonly Job[], config: BerthConfig, configFile: string): JobIssue[] {
  const ec2 = ec2ConfigOf(config);
  const issues: JobIssue[] = [];
  if (ec2 && ec2.minSize > ec2.maxSize) {
    issues.push({
      file: configFile,
      path: 'custom.berth.capacity.ec2.minSize',
      problem: `${ec2.minSize} is greater than maxSize ${ec2.maxSize}`,
      fix: 'raise maxSize or lower minSize',
    });
  }
  if (ec2 && config.cluster !== 'create') {
    issues.push({
      file: configFile,
      path: 'custom.berth.capacity.ec2',
      problem: 'an EC2 capacity provider is attached to the cluster berth creates',
      fix: 'use cluster: create, or attach your own capacity provider to your cluster and drop capacity.ec2',
    });
  }
  for (const job of jobs) {
    if (!isEc2Capacity(job.task.capacity)) continue;
    if (!ec2) {
      issues.push({
        file: job.file,
        path: 'task.capacity',
        problem: `{ provider: 'ec2' } but the service has no EC2 capacity`,
        fix: `add custom.berth.capacity.ec2 (instanceTypes, maxSize) to serverless.yml, or use capacity 'FARGATE'`,
      });
      continue;
    }
    if (job.task.architecture !== ec2.architecture) {
      issues.push({
        file: job.file,
        path: 'task.architecture',
        problem: `${job.task.architecture} but the EC2 capacity runs ${ec2.architecture} instances`,
        fix: `match custom.berth.capacity.ec2.architecture or the job's architecture`,
      });
    }
    if (job.task.ephemeralStorageGiB !== undefined) {
      issues.push({
        file: job.file,
        path: 'task.ephemeralStorageGiB',
        problem: 'ephemeral storage is a Fargate setting',
        fix: 'remove it for an EC2 job (size the instance volume instead)',
      });
    }
  }
  return issues;
}

/** The shared EC2 capacity resources (none without `custom.berth.capacity.ec2`). */
export function compileEc2Capacity(ctx: CompileContext): Resources {
  const ec2 = ec2ConfigOf(ctx.config);
  if (!ec2) return {};
  const network = taskNetwork(ctx);
  const ids = ec2LogicalIds;
  const userData = [
    '#!/bin/bash',
    // Join berth's cluster; let ECS drain tasks when EC2 announces a Spot interruption.
    `echo ECS_CLUSTER=\${Cluster} >> /etc/ecs/ecs.config`,
    'echo ECS_ENABLE_SPOT_INSTANCE_DRAINING=true >> /etc/ecs/ecs.config',
    // Tasks (awsvpc) cannot reach the instance metadata service, so never the instance role's credentials.
    'echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config',
    '',
  ].join('\n');
  const launchTemplateData: Record<string, CfnValue> = {
    ImageId: `{{resolve:ssm:${ECS_AMI_PARAMETER[ec2.architecture]}}}`,
    IamInstanceProfile: { Arn: getAtt(ids.instanceProfile, 'Arn') },
    UserData: { 'Fn::Base64': sub(userData, { Cluster: ctx.clusterName }) },
    // IMDSv2 only, and a response hop limit of 1: a container behind a bridge or an extra hop gets no answer.
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
  };
  if (network.assignPublicIp) {
    // Public subnets without NAT: the instance needs a public address to reach ECS and ECR.
    launchTemplateData.NetworkInterfaces = [
      { DeviceIndex: 0, AssociatePublicIpAddress: true, Groups: network.securityGroups },
    ];
  } else {
    launchTemplateData.SecurityGroupIds = network.securityGroups;
  }
  const spot = ec2.spot;
  return {
    [ids.instanceRole]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
        ManagedPolicyArns: [sub(ECS_INSTANCE_POLICY)],
      },
    },
    [ids.instanceProfile]: {
      Type: 'AWS::IAM::InstanceProfile',
      Properties: { Roles: [ref(ids.instanceRole)] },
    },
    [ids.launchTemplate]: {
      Type: 'AWS::EC2::LaunchTemplate',
      Properties: { LaunchTemplateData: launchTemplateData },
    },
    [ids.autoScalingGroup]: {
      Type: 'AWS::AutoScaling::AutoScalingGroup',
      Properties: {
        MinSize: String(ec2.minSize),
        MaxSize: String(ec2.maxSize),
        // No DesiredCapacity: managed scaling owns it, and a value here would be reset on every deploy.
        VPCZoneIdentifier: network.subnets,
        // Managed termination protection requires instances protected from scale-in; ECS lifts the
        // protection from an instance once it runs no tasks.
        NewInstancesProtectedFromScaleIn: true,
        MixedInstancesPolicy: {
          LaunchTemplate: {
            LaunchTemplateSpecification: {
              LaunchTemplateId: ref(ids.launchTemplate),
              Version: getAtt(ids.launchTemplate, 'LatestVersionNumber'),
            },
            Overrides: ec2.instanceTypes.map((InstanceType) => ({ InstanceType })),
          },
          InstancesDistribution: spot
            ? {
                OnDemandBaseCapacity: spot.onDemandBaseCapacity,
                OnDemandPercentageAboveBaseCapacity: spot.onDemandPercentageAboveBase,
                SpotAllocationStrategy: spot.allocationStrategy,
              }
            : { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 100 },
        },
        Tags: [
          // ECS adds this tag when managed scaling is on; declaring it keeps CloudFormation from removing it.
          { Key: 'AmazonECSManaged', Value: 'true', PropagateAtLaunch: true },
          { Key: 'berth:service', Value: ctx.names.base, PropagateAtLaunch: true },
        ],
      },
    },
    [ids.capacityProvider]: {
      Type: 'AWS::ECS::CapacityProvider',
      Properties: {
        Name: ec2CapacityProviderName(ctx),
        AutoScalingGroupProvider: {
          // The group's name; ECS accepts a name or an ARN here.
          AutoScalingGroupArn: ref(ids.autoScalingGroup),
          ManagedScaling: {
            Status: 'ENABLED',
            TargetCapacity: ec2.targetCapacity,
            MinimumScalingStepSize: 1,
            MaximumScalingStepSize: 10,
            InstanceWarmupPeriod: ec2.instanceWarmupSeconds,
          },
          ManagedTerminationProtection: 'ENABLED',
          ManagedDraining: 'ENABLED',
        },
        Tags: [{ Key: 'berth:service', Value: ctx.names.base }],
      },
    },
  };
}

/**
 * Adds the EC2 capacity provider to the cluster's capacity providers (next to FARGATE and FARGATE_SPOT),
 * in the compiled resources. A strategy may not mix Fargate and Auto Scaling group providers; a cluster may
 * hold both.
 */
export function attachEc2CapacityProvider(resources: Resources, ctx: CompileContext): void {
  if (!ec2ConfigOf(ctx.config)) return;
  const association = resources[logicalIds.clusterCapacityProviders];
  const providers = association?.Properties?.CapacityProviders;
  if (!association?.Properties || !Array.isArray(providers)) {
    throw new CompileError(
      `custom.berth.capacity.ec2: berth found no ${logicalIds.clusterCapacityProviders} to attach the EC2 capacity provider to — use cluster: create`,
    );
  }
  association.Properties.CapacityProviders = [...providers, ref(ec2LogicalIds.capacityProvider)];
}

/** Task definition properties for a job on EC2: EC2 compatibility instead of Fargate. */
export function adaptTaskDefinitionForEc2(resources: Resources, job: Job): void {
  if (!isEc2Capacity(job.task.capacity)) return;
  const td = resources[logicalIds.taskDefinition(job.name)];
  if (!td?.Properties) return;
  // awsvpc stays: each task gets its own ENI and security groups, as on Fargate.
  td.Properties.RequiresCompatibilities = ['EC2'];
}
