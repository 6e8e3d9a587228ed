/** The manifest bundled into the berth Lambdas: the validated jobs and the names the compiler chose. */
import type { Job } from '../core/model/job.js';
import type { BerthManifest, ManifestTask } from '../runtime/aws/manifest.js';
import type { CompileContext } from './context.js';
import { ec2CapacityProviderNameOf } from './ec2Capacity.js';
import { queueName } from './queue.js';
import { CONTAINER_NAME, jobHasTaskRole, jobLogGroupName } from './taskDefinition.js';

export function buildManifest(jobs: readonly Job[], ctx: CompileContext): BerthManifest {
  const tasks: Record<string, ManifestTask> = {};
  const queues: Record<string, string> = {};
  for (const job of jobs) {
    tasks[job.name] = {
      family: ctx.names.taskFamily(job.name),
      containerName: CONTAINER_NAME,
      logGroup: jobLogGroupName(job, ctx),
      hasTaskRole: jobHasTaskRole(job),
    };
    for (const t of job.triggers) if (t.kind === 'queue') queues[queueName(job, t, ctx)] = job.name;
  }
  const ec2CapacityProvider = ec2CapacityProviderNameOf(ctx);
  return {
    version: 1,
    service: ctx.names.service,
    stage: ctx.names.stage,
    jobs: [...jobs],
    tasks,
    queues,
    ...(ec2CapacityProvider ? { ec2CapacityProvider } : {}),
  };
}
