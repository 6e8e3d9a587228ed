/**
 * Compile benchmark: berth's compiler on 10/100/300 generated jobs against aws-cdk-lib synth of the same
 * number of `ScheduledFargateTask` constructs, with and without CDK's validation.
 *
 *   node --import tsx bench/compile/run.ts [--runs 5]
 *
 * berth's time covers validation of the job definitions, every compile step and the template JSON; it
 * leaves out the esbuild bundling of the three Lambdas (once per service, independent of the job count,
 * printed separately).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { ScheduledFargateTask } from 'aws-cdk-lib/aws-ecs-patterns';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { bundleFunctions } from '../../src/compiler/bundle.js';
import { compileService } from '../../src/compiler/compile.js';
import { ResourceBudgetError } from '../../src/compiler/errors.js';
import { BERTH_MODULE_EXT, BERTH_ROOT } from '../../src/compiler/index.js';
import { synthesizeTemplate } from '../../src/compiler/synth.js';
import type { JobInput } from '../../src/core/model/job.js';
import { validateJob } from '../../src/core/model/validate.js';
import { cdkBenchStack } from './cdkStack.js';

const SIZES = [10, 100, 300];
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
const IMAGE = 'public.ecr.aws/docker/library/node:22-alpine';
const ASSETS = { launcher: 'l.zip', interceptor: 'i.zip', sweeper: 's.zip' };

function inputs(count: number): JobInput[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `job-${String(i).padStart(3, '0')}`,
    trigger: { schedule: { expression: `cron(${i % 60} 3 * * ? *)`, timezone: 'Europe/Berlin' } },
    task: { image: IMAGE, cpu: 256, memory: 512 },
  }));
}

function berth(count: number): { ms: number; resources: number; perJob: number; overBudget: boolean } {
  const start = performance.now();
  const jobs = inputs(count).map((input, i) => {
    const r = validateJob(input, `jobs/${i}.ts`);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.job;
  });
  const compiled = compileService({ jobs, service: 'bench', stage: 'dev' });
  let overBudget = false;
  let resources: number;
  try {
    const { template } = synthesizeTemplate(compiled, ASSETS);
    JSON.stringify(template, null, 2);
    resources = Object.keys(template.Resources).length;
  } catch (error) {
    if (!(error instanceof ResourceBudgetError)) throw error;
    overBudget = true;
    resources = error.resourceCount;
  }
  const ms = performance.now() - start;
  const perJob = Object.values(compiled.perJob).reduce((a, b) => a + b, 0) / count;
  return { ms, resources, perJob, overBudget };
}

function cdk(count: number, validate: boolean): { ms: number; resources: number; perJob: number } {
  const outdir = mkdtempSync(join(tmpdir(), 'berth-bench-cdk-'));
  try {
    const start = performance.now();
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
    const assembly = app.synth({ skipValidation: !validate });
    const ms = performance.now() - start;
    const template = assembly.getStackByName('Bench').template as {
      Resources: Record<string, { Type: string }>;
    };
    const all = Object.values(template.Resources);
    const shared = all.filter(
      (r) => r.Type === 'AWS::ECS::Cluster' || r.Type === 'AWS::CDK::Metadata',
    ).length;
    return { ms, resources: all.length, perJob: (all.length - shared) / count };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function measure<T extends { ms: number }>(fn: () => T): T {
  fn(); // warm-up: module loading and JIT are not what we compare
  const runs = Array.from({ length: RUNS }, fn);
  const ms = median(runs.map((r) => r.ms));
  return { ...runs[0]!, ms };
}

const rows: string[][] = [
  [
    'jobs',
    'berth ms',
    'res/job',
    'total',
    'CDK ms (validated)',
    'CDK ms (no validation)',
    'res/job',
    'total',
    '×(val)',
    '×(no val)',
  ],
];
for (const n of SIZES) {
  const b = measure(() => berth(n));
  const cv = measure(() => cdk(n, true));
  const cn = measure(() => cdk(n, false));
  rows.push([
    String(n),
    b.ms.toFixed(1),
    b.perJob.toFixed(1),
    `${b.resources}${b.overBudget ? ' (over 500: refused)' : ''}`,
    cv.ms.toFixed(0),
    cn.ms.toFixed(0),
    cv.perJob.toFixed(1),
    String(cv.resources),
    `${(cv.ms / b.ms).toFixed(0)}×`,
    `${(cn.ms / b.ms).toFixed(0)}×`,
  ]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i]!)).join('  '));

const bundleStart = performance.now();
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-bundle-'));
const compiled = compileService({
  jobs: inputs(10).map((input) => {
    const r = validateJob(input, 'x.ts');
    if (!r.ok) throw new Error('invalid');
    return r.job;
  }),
  service: 'bench',
  stage: 'dev',
});
const bundles = await bundleFunctions({
  root: BERTH_ROOT,
  moduleExt: BERTH_MODULE_EXT,
  outDir: dir,
  manifest: compiled.manifest,
  functions: compiled.functions,
});
console.log(
  `\nbundling the 3 Lambdas (once per service): ${(performance.now() - bundleStart).toFixed(0)} ms, ${bundles.map((b) => `${b.kind} ${(b.bytes / 1024).toFixed(0)} KiB`).join(', ')}`,
);
rmSync(dir, { recursive: true, force: true });
console.log(
  `median of ${RUNS} runs after one warm-up; schedule jobs on both sides (berth: cron in a time zone).`,
);
