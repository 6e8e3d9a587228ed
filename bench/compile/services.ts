/**
 * Resource cost of a service-mode queue job (an auto-scaled ECS service of queue workers) against CDK's
 * QueueProcessingFargateService, measured in the same run on the same number of jobs.
 *
 *   node --import tsx bench/compile/services.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { QueueProcessingFargateService } from 'aws-cdk-lib/aws-ecs-patterns';
import { compileService } from '../../src/compiler/compile.js';
import type { JobInput } from '../../src/core/model/job.js';
import { validateJob } from '../../src/core/model/validate.js';
import { cdkBenchStack } from './cdkStack.js';

const IMAGE = 'public.ecr.aws/docker/library/node:22-alpine';
const COUNT = 10;

function berth(service: NonNullable<NonNullable<JobInput['trigger']>['queue']>['service']): number {
  const jobs = Array.from({ length: COUNT }, (_, i) => {
    const r = validateJob(
      { name: `worker-${i}`, trigger: { queue: { mode: 'service', service } }, task: { image: IMAGE } },
      `jobs/worker-${i}.ts`,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.job;
  });
  const compiled = compileService({ jobs, service: 'bench', stage: 'dev' });
  return Object.values(compiled.perJob).reduce((a, b) => a + b, 0) / COUNT;
}

function cdk(): number {
  const outdir = mkdtempSync(join(tmpdir(), 'berth-bench-qpfs-'));
  try {
    const perJobOf = (n: number) => {
      const { app, stack, cluster } = cdkBenchStack(outdir);
      for (let i = 0; i < n; i++) {
        new QueueProcessingFargateService(stack, `Worker${i}`, {
          cluster,
          image: ecs.ContainerImage.fromRegistry(IMAGE),
          assignPublicIp: true,
        });
      }
      const template = app.synth({ skipValidation: true }).getStackByName('Bench').template as {
        Resources: Record<string, unknown>;
      };
      return Object.keys(template.Resources).length;
    };
    return (perJobOf(COUNT) - perJobOf(0)) / COUNT;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const rows: Array<[string, number]> = [
  ['berth service job, defaults (min 1)', berth(undefined)],
  ['berth service job, scale to zero (wake alarm)', berth({ minTasks: 0 })],
  [
    'berth service job, every option',
    berth({
      minTasks: 0,
      stepScaling: [{ visibleAtLeast: 100, addTasks: 2 }],
      cpuTarget: 70,
      memoryTarget: 80,
    }),
  ],
  ['CDK QueueProcessingFargateService', cdk()],
];
console.log(`resources per queue-worker service (${COUNT} jobs, shared resources excluded)`);
for (const [label, n] of rows) console.log(`${label.padEnd(48)} ${n.toFixed(1)}`);
