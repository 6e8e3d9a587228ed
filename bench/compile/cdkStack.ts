/** The CDK side of the compile benchmarks: one stack with an imported VPC (public subnets) and a cluster. */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';

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
