/**
 * The CDK side of the compile headline, run as its own process like `cdk synth` runs an app: `count`
 * ScheduledFargateTasks in one stack (an imported VPC, public subnets, an ECS cluster), `app.synth()` to
 * `outdir`. Prints the number of resources.
 *
 *   node bench/out/cdkApp.mjs <count> <outdir>      (bench/compile/run.ts builds it from this file)
 */
import { cdkScheduledTasksApp } from './cdkStack.js';

export function synthCdk(count: number, outdir: string): number {
  const assembly = cdkScheduledTasksApp(outdir, count).synth();
  const template = assembly.getStackByName('Bench').template as { Resources: Record<string, unknown> };
  return Object.keys(template.Resources).length;
}

const [countArg, outdirArg] = process.argv.slice(2);
if (countArg && outdirArg) process.stdout.write(`${synthCdk(Number(countArg), outdirArg)}\n`);
