/**
 * The three berth Lambdas (and one per `defineSubscriber` file, see subscribers.ts) as neutral specs: `berth synth` renders them as CloudFormation, the Serverless
 * plugin as `functions` entries. Both give the same logical ids (Serverless's naming for the keys
 * `berthLauncher`, `berthInterceptor`, `berthSweeper`).
 */
import type { Job } from '../core/model/job.js';
import { BERTH_ENV } from '../runtime/aws/manifest.js';
import { type CfnValue, getAtt, join, type Resources, ref } from './cfn.js';
import { INTERCEPTOR_TIMEOUT_SECONDS, LAUNCHER_TIMEOUT_SECONDS, SWEEPER_TIMEOUT_SECONDS } from './config.js';
import type { CompileContext } from './context.js';
import { BERTH_FUNCTIONS, type BerthFunctionKind, type FunctionKind, logicalIds } from './naming.js';
import { taskNetwork } from './network.js';
import { mappingConcurrency } from './queue.js';

export const LAMBDA_RUNTIME = 'nodejs22.x';
export const LAMBDA_ARCHITECTURE = 'arm64';

export interface FunctionSpec {
  kind: FunctionKind;
  /** Serverless `functions` key. */
  key: string;
  name: string;
  /** `<file>.handler`, the file being the bundle at the zip's root. */
  handler: string;
  /** Handler entry in the repository. */
  entry: string;
  timeout: number;
  memorySize: number;
  reservedConcurrency?: number;
  environment: Record<string, CfnValue>;
  roleLogicalId: string;
  /** Set for a subscriber's Lambda: its file (relative to the service) is bundled instead of `handlers/`. */
  subscriber?: { file: string; raw: boolean };
}

/**
 * How many launcher instances can run at once: the launch queue's mapping plus each queue job's own. Each
 * instance paces its RunTask calls at 1/this of the account's Fargate quotas (see `launchPacer.ts`).
 */
export function launcherInstances(ctx: CompileContext, jobs: readonly Job[]): number {
  let n = ctx.config.launcherConcurrency;
  for (const job of jobs)
    for (const t of job.triggers)
      if (t.kind === 'queue' && t.mode !== 'service') n += mappingConcurrency(job);
  return n;
}

export function functionEnvironment(
  ctx: CompileContext,
  jobs: readonly Job[] = [],
): Record<string, CfnValue> {
  const network = taskNetwork(ctx);
  return {
    [BERTH_ENV.cluster]: ctx.clusterArn,
    [BERTH_ENV.runsTable]: ref(logicalIds.runsTable),
    [BERTH_ENV.eventBus]: ref(logicalIds.eventBus),
    [BERTH_ENV.launchQueueUrl]: ctx.launchQueueUrl,
    [BERTH_ENV.launchQueueArn]: ctx.launchQueueArn,
    [BERTH_ENV.subnets]: join(',', network.subnets),
    [BERTH_ENV.securityGroups]: join(',', network.securityGroups),
    [BERTH_ENV.assignPublicIp]: network.assignPublicIp ? 'ENABLED' : 'DISABLED',
    [BERTH_ENV.scheduleGroup]: ref(logicalIds.scheduleGroup),
    [BERTH_ENV.schedulerRoleArn]: ctx.schedulerRoleArn,
    [BERTH_ENV.payloadBucket]: ref(logicalIds.payloadBucket),
    [BERTH_ENV.runTtlDays]: String(ctx.config.runsTable.ttlDays),
    [BERTH_ENV.launchConcurrency]: String(launcherInstances(ctx, jobs)),
    // Node reads the map at start only when told to; the maps ship only with `custom.berth.sourceMaps`.
    ...(ctx.config.sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
  };
}

const SIZES: Record<
  BerthFunctionKind,
  { timeout: number; memorySize: number; reservedConcurrency?: number }
> = {
  launcher: { timeout: LAUNCHER_TIMEOUT_SECONDS, memorySize: 512 },
  interceptor: { timeout: INTERCEPTOR_TIMEOUT_SECONDS, memorySize: 512 },
  // One sweep at a time: overlapping sweeps would race on the same runs.
  sweeper: { timeout: SWEEPER_TIMEOUT_SECONDS, memorySize: 512, reservedConcurrency: 1 },
};

export function functionSpecs(ctx: CompileContext, jobs: readonly Job[] = []): FunctionSpec[] {
  const environment = functionEnvironment(ctx, jobs);
  return BERTH_FUNCTIONS.map((kind) => ({
    kind,
    key: logicalIds.functionKey(kind),
    name: ctx.names.functionName(kind),
    handler: `${kind}.handler`,
    entry: `handlers/${kind}`,
    ...SIZES[kind],
    environment,
    roleLogicalId: logicalIds.lambdaRole(kind),
  }));
}

export interface CodeLocation {
  S3Bucket: CfnValue;
  S3Key: CfnValue;
}

/** The Lambda function and its log group as plain CloudFormation (what Serverless would write). */
export function renderFunction(spec: FunctionSpec, code: CodeLocation, ctx: CompileContext): Resources {
  const logGroupId = logicalIds.functionLogGroup(spec.kind);
  return {
    [logGroupId]: {
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: `/aws/lambda/${spec.name}`, RetentionInDays: ctx.config.logRetentionDays },
    },
    [logicalIds.function(spec.kind)]: {
      Type: 'AWS::Lambda::Function',
      DependsOn: [logGroupId],
      Properties: {
        FunctionName: spec.name,
        Runtime: LAMBDA_RUNTIME,
        Architectures: [LAMBDA_ARCHITECTURE],
        Handler: spec.handler,
        Code: { S3Bucket: code.S3Bucket, S3Key: code.S3Key },
        MemorySize: spec.memorySize,
        Timeout: spec.timeout,
        Role: getAtt(spec.roleLogicalId, 'Arn'),
        Environment: { Variables: spec.environment },
        ...(spec.reservedConcurrency ? { ReservedConcurrentExecutions: spec.reservedConcurrency } : {}),
      },
    },
  };
}
