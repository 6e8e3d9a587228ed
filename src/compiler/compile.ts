/**
 * Jobs → CloudFormation resources: gathers the pure compile steps. Serverless merges the result into its
 * template (the plugin); `berth synth` wraps it into a template of its own (synth.ts).
 */

import { errorsOf } from '../core/errors.js';
import type { Job } from '../core/model/job.js';
import type { BerthManifest } from '../runtime/aws/manifest.js';
import type { LoadedSubscriber } from '../subscriber/index.js';
import { compileConsoleAppRunner } from './appRunner.js';
import { triggerBuckets } from './buckets.js';
import type { CfnValue, Resources, Template } from './cfn.js';
import { getAtt, ref } from './cfn.js';
import { CONFIG_FILE, checkConfig, checkProject, formatProjectIssue } from './checks.js';
import { compileCluster } from './cluster.js';
import type { BerthConfig, BerthConfigInput } from './config.js';
import { compileConsolePolicy } from './console.js';
import { type CompileContext, createContext } from './context.js';
import { adaptTaskDefinitionForEc2, attachEc2CapacityProvider, compileEc2Capacity } from './ec2Capacity.js';
import { compileImagesTemplate, imageParameters } from './ecr.js';
import { CompileError } from './errors.js';
import { compileExecutionRole } from './executionRole.js';
import { type FunctionSpec, functionSpecs } from './functions.js';
import { compileLambdaRole } from './iam.js';
import { compileInterceptorRule, compileLauncherMapping, compileSweeperSchedule } from './lambdaWiring.js';
import { buildManifest } from './manifest.js';
import {
  compileEventBus,
  compileLaunchQueue,
  compileLogGroup,
  compilePayloadBucket,
  compileScheduler,
} from './messaging.js';
import { BERTH_FUNCTIONS, logicalIds } from './naming.js';
import { compileNetwork } from './network.js';
import { compileNotify } from './notify.js';
import { compileQueue } from './queue.js';
import { compileRunsTable } from './runsTable.js';
import { compileS3Trigger } from './s3Trigger.js';
import { compileSchedule } from './schedule.js';
import { adaptTaskDefinitionForService, compileWorkerService, enableContainerInsights } from './service.js';
import { compileSubscribers } from './subscribers.js';
import { compileTaskDefinition } from './taskDefinition.js';

export interface CompileInput {
  jobs: readonly Job[];
  /** `custom.berth`, as written (defaults are applied here). */
  config?: BerthConfigInput | BerthConfig;
  service: string;
  stage: string;
  /** `subscribers/*.ts`, loaded (each becomes a Lambda and a rule). */
  subscribers?: readonly LoadedSubscriber[];
}

export interface CompiledService {
  context: CompileContext;
  /** Every berth resource except the three Lambda functions and their log groups. */
  resources: Resources;
  /** The three Lambdas and one per subscriber, rendered by synth or by Serverless. */
  functions: FunctionSpec[];
  manifest: BerthManifest;
  /** Resources each job adds. */
  perJob: Record<string, number>;
  /** Buckets named by S3 triggers. */
  buckets: string[];
  outputs: Record<string, { Description: string; Value: CfnValue }>;
  /** One parameter per `task.build` job: its pinned image, filled in at deploy (src/compiler/ecr.ts). */
  parameters: NonNullable<Template['Parameters']>;
  /** The bootstrap stack of the image repositories, deployed first; undefined when no job builds. */
  imagesTemplate: Template | undefined;
}

export function parseConfig(config: unknown): BerthConfig {
  const checked = checkConfig(config);
  if (!checked.config) throw new CompileError(checked.issues.map((i) => formatProjectIssue(i)).join('\n'));
  return checked.config;
}

function add(target: Resources, source: Resources): number {
  for (const [id, resource] of Object.entries(source)) {
    if (target[id])
      throw new CompileError(`two resources share the logical id ${id} — rename one of the jobs`);
    target[id] = resource;
  }
  return Object.keys(source).length;
}

export function compileJob(job: Job, ctx: CompileContext): Resources {
  const resources: Resources = {};
  const taskDefinition = compileTaskDefinition(job, ctx);
  adaptTaskDefinitionForService(taskDefinition, job, ctx);
  adaptTaskDefinitionForEc2(taskDefinition, job);
  add(resources, taskDefinition);
  let s3 = 0;
  let schedules = 0;
  for (const trigger of job.triggers) {
    if (trigger.kind === 's3') add(resources, compileS3Trigger(job, trigger, s3++, ctx));
    else if (trigger.kind === 'schedule') add(resources, compileSchedule(job, trigger, schedules++, ctx));
    else if (trigger.mode === 'service') add(resources, compileWorkerService(job, trigger, ctx));
    else add(resources, compileQueue(job, trigger, ctx));
  }
  add(resources, compileNotify(job, ctx));
  return resources;
}

export function compileService(input: CompileInput): CompiledService {
  const config = parseConfig(input.config);
  const ctx = createContext(config, input.service, input.stage);
  const jobs = [...input.jobs].sort((a, b) => a.name.localeCompare(b.name));
  // The checks `berth validate` runs too (checks.ts): validate and synth never disagree.
  const problems = errorsOf(checkProject(jobs, config, CONFIG_FILE, input.subscribers ?? []));
  if (problems.length) throw new CompileError(problems.map((i) => formatProjectIssue(i)).join('\n'));
  const resources: Resources = {};
  add(resources, compileCluster(ctx));
  add(resources, compileEc2Capacity(ctx));
  attachEc2CapacityProvider(resources, ctx);
  enableContainerInsights(resources, jobs, ctx);
  add(resources, compileNetwork(ctx));
  add(resources, compileLogGroup(ctx));
  add(resources, compileExecutionRole(jobs, ctx));
  add(resources, compileLaunchQueue(ctx));
  add(resources, compileRunsTable(ctx));
  add(resources, compileEventBus(ctx));
  add(resources, compileScheduler(ctx));
  add(resources, compilePayloadBucket(ctx));
  for (const fn of BERTH_FUNCTIONS) add(resources, compileLambdaRole(fn, jobs, ctx));
  add(resources, compileLauncherMapping(ctx));
  add(resources, compileInterceptorRule(ctx));
  add(resources, compileSweeperSchedule(ctx));
  const subscribers = compileSubscribers(input.subscribers ?? [], jobs, ctx);
  add(resources, subscribers.resources);
  const perJob: Record<string, number> = {};
  for (const job of jobs) perJob[job.name] = add(resources, compileJob(job, ctx));
  const consolePolicy = compileConsolePolicy(ctx, jobs);
  add(resources, consolePolicy.resources);
  const consoleService = compileConsoleAppRunner(ctx, jobs);
  add(resources, consoleService.resources);

  const outputs: CompiledService['outputs'] = {
    BerthClusterArn: { Description: 'ECS cluster the jobs run on', Value: ctx.clusterArn },
    BerthLaunchQueueUrl: { Description: 'Launch queue (manual invokes go here)', Value: ctx.launchQueueUrl },
    BerthRunsTableName: { Description: 'Run history table', Value: ref(logicalIds.runsTable) },
    BerthEventBusName: { Description: 'Bus of the outcome events', Value: ref(logicalIds.eventBus) },
    BerthEventBusArn: { Description: 'Bus of the outcome events', Value: getAtt(logicalIds.eventBus, 'Arn') },
    ...consolePolicy.outputs,
    ...consoleService.outputs,
  };
  return {
    context: ctx,
    resources,
    functions: [...functionSpecs(ctx, jobs), ...subscribers.functions],
    manifest: buildManifest(jobs, ctx),
    perJob,
    buckets: triggerBuckets(jobs),
    outputs,
    parameters: { ...imageParameters(jobs), ...consoleService.parameters },
    imagesTemplate: compileImagesTemplate(jobs, ctx),
  };
}
