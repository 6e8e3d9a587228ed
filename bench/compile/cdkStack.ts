/** The CDK side of the compile benchmarks: one stack with an imported VPC (public subnets) and a cluster. */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { ScheduledFargateTask } from 'aws-cdk-lib/aws-ecs-patterns';
import { Schedule } from 'aws-cdk-lib/aws-events';

export const IMAGE = 'public.ecr.aws/docker/library/node:22-alpine';

/** An app synthesizing to `outdir`, its stack `Bench` and an ECS cluster in an imported VPC. */
export function cdkBenchStack(
  outdir: string,
  context?: Record<string, unknown>,
): { app: App; stack: Stack; cluster: ecs.Cluster } {
  const app = new App({ outdir, ...(context ? { context } : {}) });
  const stack = new Stack(app, 'Bench', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    publicSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  return { app, stack, cluster };
}

/** The compile headline's CDK app: `count` ScheduledFargateTasks (one a minute past 3 o'clock) in `Bench`. */
export function cdkScheduledTasksApp(outdir: string, count: number): App {
  // stackResourceLimit 0 lets CDK synth past 500 resources, so every size is timed (it could not deploy).
  const { app, stack, cluster } = cdkBenchStack(outdir, { '@aws-cdk/core:stackResourceLimit': 0 });
  for (let i = 0; i < count; i++) {
    new ScheduledFargateTask(stack, `Job${i}`, {
      cluster,
      schedule: Schedule.expression(`cron(${i % 60} 3 * * ? *)`),
      scheduledFargateTaskImageOptions: {
        image: ecs.ContainerImage.fromRegistry(IMAGE),
        cpu: 256,
        memoryLimitMiB: 512,
      },
      subnetSelection: { subnetType: ec2.SubnetType.PUBLIC },
    });
  }
  return app;
}
