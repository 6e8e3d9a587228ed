/**
 * The CDK side of the compile headline, run as its own process like `cdk synth` runs an app: `count`
 * ScheduledFargateTasks in one stack (an imported VPC, public subnets, an ECS cluster), `app.synth()` to
 * `outdir`. Prints the number of resources.
 *
 *   node bench/out/cdkApp.mjs <count> <outdir>      (bench/compile/run.ts builds it from this file)
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { ScheduledFargateTask } from 'aws-cdk-lib/aws-ecs-patterns';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { cdkBenchStack } from './cdkStack.js';

export const IMAGE = 'public.ecr.aws/docker/library/node:22-alpine';

export function synthCdk(count: number, outdir: string): number {
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
  const assembly = app.synth();
  const template = assembly.getStackByName('Bench').template as { Resources: Record<string, unknown> };
  return Object.keys(template.Resources).length;
}

const [countArg, outdirArg] = process.argv.slice(2);
if (countArg && outdirArg) process.stdout.write(`${synthCdk(Number(countArg), outdirArg)}\n`);
