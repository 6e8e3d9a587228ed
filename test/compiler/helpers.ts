import type { CfnResource, Resources } from '../../src/compiler/cfn.js';
import { parseConfig } from '../../src/compiler/compile.js';
import type { BerthConfigInput } from '../../src/compiler/config.js';
import { type CompileContext, createContext } from '../../src/compiler/context.js';
import type { Job, JobInput } from '../../src/core/model/job.js';
import { validateJob } from '../../src/core/model/validate.js';

export const IMAGE = 'public.ecr.aws/docker/library/node:22-alpine';

/** A validated job (defaults applied), failing the test on invalid input. */
export function job(input: Partial<JobInput> & { name: string }): Job {
  const result = validateJob({ task: { image: IMAGE }, ...input }, `jobs/${input.name}.ts`);
  if (!result.ok) throw new Error(result.issues.map((i) => `${i.path}: ${i.problem}`).join('\n'));
  return result.job;
}

export function context(config: BerthConfigInput = {}, service = 'svc', stage = 'dev'): CompileContext {
  return createContext(parseConfig(config), service, stage);
}

export function resource(resources: Resources, id: string, type?: string): CfnResource {
  const r = resources[id];
  if (!r) throw new Error(`no resource ${id}; have ${Object.keys(resources).join(', ')}`);
  if (type && r.Type !== type) throw new Error(`${id} is ${r.Type}, not ${type}`);
  return r;
}

/** Generated jobs: a third each S3, schedule and queue. */
export function generatedJobs(count: number): Job[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `job-${String(i).padStart(3, '0')}`;
    const kind = i % 3;
    return job({
      name,
      trigger:
        kind === 0
          ? { s3: { bucket: 'uploads', prefix: `in/${name}/`, suffix: '.csv' } }
          : kind === 1
            ? { schedule: { expression: `cron(${i % 60} 3 * * ? *)`, timezone: 'Europe/Berlin' } }
            : { queue: { batchSize: 1 } },
    });
  });
}
