/** EC2 capacity: the Auto Scaling group, launch template, instance profile and capacity provider; the checks. */
import { describe, expect, it } from 'vitest';
import type { Resources } from '../../src/compiler/cfn.js';
import { compileService } from '../../src/compiler/compile.js';
import { ECS_AMI_PARAMETER, ec2LogicalIds as ids } from '../../src/compiler/ec2Capacity.js';
import { CompileError } from '../../src/compiler/errors.js';
import { logicalIds } from '../../src/compiler/naming.js';
import { serviceLogicalIds } from '../../src/compiler/service.js';
import { synthesizeTemplate } from '../../src/compiler/synth.js';
import { cfnLintTemplate } from '../helpers/cfnLint.js';
import { job, resource } from './helpers.js';

const props = (r: Resources, id: string, type?: string) =>
  resource(r, id, type).Properties as Record<string, unknown>;

const ec2Job = job({
  name: 'render',
  trigger: { queue: { mode: 'service', service: { minTasks: 0, maxTasks: 8 } } },
  task: { image: 'i', cpu: 1024, memory: 2048, capacity: { provider: 'ec2' } },
});
const oneOff = job({ name: 'batch', task: { image: 'i', capacity: { provider: 'ec2' } } });
const capacity = {
  ec2: {
    instanceTypes: ['m7i.large', 'm6i.large'],
    maxSize: 6,
    targetCapacity: 90,
    spot: { onDemandBaseCapacity: 1, onDemandPercentageAboveBase: 25 },
  },
};
const compiled = compileService({
  jobs: [ec2Job, oneOff],
  service: 'shop',
  stage: 'dev',
  config: { capacity },
});
const r = compiled.resources;

describe('compileEc2Capacity', () => {
  it('launches the ECS-optimised Amazon Linux 2023 AMI from the public SSM parameter, joining the cluster', () => {
    const data = props(r, ids.launchTemplate, 'AWS::EC2::LaunchTemplate').LaunchTemplateData as Record<
      string,
      unknown
    >;
    expect(ECS_AMI_PARAMETER.x86_64).toBe(
      '/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id',
    );
    expect(data.ImageId).toBe(`{{resolve:ssm:${ECS_AMI_PARAMETER.x86_64}}}`);
    expect(data.IamInstanceProfile).toEqual({ Arn: { 'Fn::GetAtt': [ids.instanceProfile, 'Arn'] } });
    const userData = (data.UserData as { 'Fn::Base64': { 'Fn::Sub': [string, Record<string, unknown>] } })[
      'Fn::Base64'
    ]['Fn::Sub'];
    expect(userData[0]).toContain(`echo ECS_CLUSTER=\${Cluster} >> /etc/ecs/ecs.config`);
    expect(userData[1]).toEqual({ Cluster: { Ref: 'BerthCluster' } });
    expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required' });
  });

  it("gives instances the ECS agent's managed role through an instance profile", () => {
    const role = props(r, ids.instanceRole, 'AWS::IAM::Role');
    expect(role.ManagedPolicyArns).toEqual([
      {
        'Fn::Sub': `arn:\${AWS::Partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role`,
      },
    ]);
    expect(props(r, ids.instanceProfile, 'AWS::IAM::InstanceProfile').Roles).toEqual([
      { Ref: ids.instanceRole },
    ]);
  });

  it('mixes on-demand and Spot, protects new instances from scale-in, leaves desired capacity to ECS', () => {
    const asg = props(r, ids.autoScalingGroup, 'AWS::AutoScaling::AutoScalingGroup');
    expect(asg).toMatchObject({ MinSize: '0', MaxSize: '6', NewInstancesProtectedFromScaleIn: true });
    expect(asg.DesiredCapacity).toBeUndefined();
    expect(asg.MixedInstancesPolicy).toMatchObject({
      LaunchTemplate: { Overrides: [{ InstanceType: 'm7i.large' }, { InstanceType: 'm6i.large' }] },
      InstancesDistribution: {
        OnDemandBaseCapacity: 1,
        OnDemandPercentageAboveBaseCapacity: 25,
        SpotAllocationStrategy: 'price-capacity-optimized',
      },
    });
  });

  it('is a capacity provider with managed scaling to the target capacity and managed termination protection', () => {
    const provider = props(r, ids.capacityProvider, 'AWS::ECS::CapacityProvider');
    expect(provider.AutoScalingGroupProvider).toMatchObject({
      AutoScalingGroupArn: { Ref: ids.autoScalingGroup },
      ManagedScaling: { Status: 'ENABLED', TargetCapacity: 90 },
      ManagedTerminationProtection: 'ENABLED',
    });
    expect(props(r, logicalIds.clusterCapacityProviders).CapacityProviders).toEqual([
      'FARGATE',
      'FARGATE_SPOT',
      { Ref: ids.capacityProvider },
    ]);
  });

  it('gives EC2 jobs EC2-compatible task definitions and places their service on the capacity provider', () => {
    expect(props(r, logicalIds.taskDefinition('render')).RequiresCompatibilities).toEqual(['EC2']);
    expect(props(r, logicalIds.taskDefinition('batch')).RequiresCompatibilities).toEqual(['EC2']);
    expect(props(r, serviceLogicalIds.service('render')).CapacityProviderStrategy).toEqual([
      { CapacityProvider: { Ref: ids.capacityProvider }, Weight: 1 },
    ]);
  });

  it('names the capacity provider at compile time and writes that name into the manifest for the launcher', () => {
    // The launcher's RunTask names the provider; the manifest is bundled into the Lambda before deploy.
    expect(props(r, ids.capacityProvider).Name).toBe('berth-shop-dev-ec2');
    expect(compiled.manifest.ec2CapacityProvider).toBe('berth-shop-dev-ec2');
    // Provider names may not start with aws, ecs or fargate, whatever the service is called.
    const ecs = compileService({ jobs: [oneOff], service: 'ecs-jobs', stage: 'dev', config: { capacity } });
    expect(props(ecs.resources, ids.capacityProvider).Name).toBe('berth-ecs-jobs-dev-ec2');
  });

  it('task auto scaling alone cannot add instances: only the capacity provider scales the group', () => {
    // The service's scaling policies change ecs:service:DesiredCount and nothing else.
    const scaling = Object.values(r).filter((x) => x.Type.startsWith('AWS::ApplicationAutoScaling::'));
    expect(scaling.length).toBeGreaterThan(0);
    for (const x of scaling) {
      const p = x.Properties as Record<string, unknown>;
      if (x.Type.endsWith('ScalableTarget')) expect(p.ScalableDimension).toBe('ecs:service:DesiredCount');
    }
    // No scaling policy or alarm of berth's targets the Auto Scaling group: its size follows the capacity
    // provider's managed scaling, which is what starts an instance when tasks wait in PROVISIONING.
    const asgScaling = Object.values(r).filter(
      (x) => x.Type === 'AWS::AutoScaling::ScalingPolicy' || x.Type === 'AWS::AutoScaling::ScheduledAction',
    );
    expect(asgScaling).toEqual([]);
    expect(props(r, ids.capacityProvider).AutoScalingGroupProvider).toMatchObject({
      ManagedScaling: { Status: 'ENABLED' },
    });
    // Without the provider, the same job does not compile: there would be tasks and no instance to run them.
    expect(() => compileService({ jobs: [ec2Job], service: 'shop', stage: 'dev' })).toThrow(
      /render\.ts: task\.capacity: \{ provider: 'ec2' \} but the service has no EC2 capacity/,
    );
  });

  it('passes cfn-lint', () => {
    const assets = { launcher: 'l.zip', interceptor: 'i.zip', sweeper: 's.zip' };
    expect(cfnLintTemplate(synthesizeTemplate(compiled, assets).template, 'ec2')).toEqual({
      status: 0,
      output: '',
    });
  });
});

describe('checkCapacity', () => {
  it('rejects an arm64 job on x86 instances, Fargate-only storage, minSize > maxSize, an existing cluster', () => {
    const arm = job({
      name: 'arm',
      task: { image: 'i', architecture: 'arm64', capacity: { provider: 'ec2' } },
    });
    const disk = job({
      name: 'disk',
      task: { image: 'i', ephemeralStorageGiB: 50, capacity: { provider: 'ec2' } },
    });
    let error: unknown;
    try {
      compileService({
        jobs: [arm, disk],
        service: 's',
        stage: 'd',
        config: {
          cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/shared',
          capacity: { ec2: { instanceTypes: ['m7i.large'], minSize: 5, maxSize: 2 } },
        },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CompileError);
    const lines = (error as Error).message.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^custom\.berth\.capacity\.ec2\.minSize: 5 is greater than maxSize 2/);
    expect(lines[1]).toMatch(
      /^custom\.berth\.capacity\.ec2: an EC2 capacity provider is attached to the cluster berth creates/,
    );
    expect(lines[2]).toMatch(
      /^jobs\/arm\.ts: task\.architecture: arm64 but the EC2 capacity runs x86_64 instances/,
    );
    expect(lines[3]).toMatch(
      /^jobs\/disk\.ts: task\.ephemeralStorageGiB: ephemeral storage is a Fargate setting/,
    );
  });

  it('adds nothing when no job and no config asks for EC2 (Fargate stays the default)', () => {
    const plain = compileService({ jobs: [job({ name: 'a' })], service: 's', stage: 'd' });
    expect(Object.keys(plain.resources).filter((id) => id.startsWith('BerthEc2'))).toEqual([]);
    expect(props(plain.resources, logicalIds.taskDefinition('a')).RequiresCompatibilities).toEqual([
      'FARGATE',
    ]);
  });
});
