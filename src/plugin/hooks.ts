/**
 * What berth's Serverless plugin does, hook by hook (index.cjs wires them). Kept apart from the CommonJS shim
 * so it is plain TypeScript, and apart from the compiler so the compiler never knows about Serverless.
 */
import { join, relative } from 'node:path';
import { enableEventBridgeOnOwnedBuckets } from '../compiler/buckets.js';
import { checkBudget } from '../compiler/budget.js';
import type { Resources, Template } from '../compiler/cfn.js';
import { CompileError } from '../compiler/errors.js';
import { LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME } from '../compiler/functions.js';
import { type BuiltService, buildService } from '../compiler/index.js';
import { logicalIds } from '../compiler/naming.js';

/** The slice of the Serverless instance berth touches. */
export interface ServerlessLike {
  serviceDir: string;
  service: {
    service: string;
    custom?: { berth?: unknown };
    functions?: Record<string, unknown>;
    resources?: { Resources?: Resources };
    provider: { compiledCloudFormationTemplate: Template };
  };
  getProvider(name: 'aws'): { getStage(): string };
}

export interface PluginState {
  built?: BuiltService;
  externalBuckets?: string[];
}

interface Log {
  (message: string): void;
  notice?: (message: string) => void;
  warning?: (message: string) => void;
}

const say = (log: Log | undefined, message: string) => (log?.notice ?? log ?? console.log)(message);
const warn = (log: Log | undefined, message: string) => (log?.warning ?? log ?? console.warn)(message);

/** `before:package:initialize`: compile, bundle the three Lambdas and add them as functions. */
export async function addFunctions(sls: ServerlessLike, state: PluginState, log?: Log): Promise<void> {
  const serviceDir = sls.serviceDir;
  const stage = sls.getProvider('aws').getStage();
  const built = await buildService({
    serviceDir,
    service: sls.service.service,
    stage,
    config: sls.service.custom?.berth,
    outDir: join(serviceDir, '.serverless', 'berth'),
  });
  state.built = built;
  sls.service.functions ??= {};
  const functions = sls.service.functions;
  const retention = built.compiled.context.config.logRetentionDays;
  for (const spec of built.compiled.functions) {
    if (functions[spec.key]) {
      throw new CompileError(`functions.${spec.key}: the name is berth's own — rename your function`);
    }
    const bundle = built.bundles.find((b) => b.kind === spec.kind)!;
    if (!bundle.fromSource)
      warn(
        log,
        `berth: ${spec.entry} is missing from the berth package; its Lambda fails until it is reinstalled`,
      );
    functions[spec.key] = {
      name: spec.name,
      handler: spec.handler,
      runtime: LAMBDA_RUNTIME,
      architecture: LAMBDA_ARCHITECTURE,
      memorySize: spec.memorySize,
      timeout: spec.timeout,
      role: spec.roleLogicalId,
      environment: spec.environment,
      logRetentionInDays: retention,
      ...(spec.reservedConcurrency ? { reservedConcurrency: spec.reservedConcurrency } : {}),
      package: { artifact: relative(serviceDir, bundle.zipPath) },
      events: [],
    };
  }
  state.externalBuckets = enableEventBridgeOnOwnedBuckets(
    sls.service.resources?.Resources ?? {},
    built.compiled.buckets,
  );
}

/** `after:package:compileEvents`: the compiled resources and outputs join Serverless's template. */
export async function mergeResources(sls: ServerlessLike, state: PluginState): Promise<void> {
  const built = state.built;
  if (!built)
    throw new CompileError('berth: the package hooks ran out of order — run serverless package again');
  const template = sls.service.provider.compiledCloudFormationTemplate;
  for (const [id, resource] of Object.entries(built.compiled.resources)) {
    if (template.Resources[id]) {
      throw new CompileError(`resources.${id}: the logical id is berth's own — rename your resource`);
    }
    template.Resources[id] = resource;
  }
  template.Outputs = { ...template.Outputs, ...built.compiled.outputs };
  // Serverless adds `DependsOn: <role>` to functions with a custom role; `Role: GetAtt` already orders them.
  for (const spec of built.compiled.functions) {
    const fn = template.Resources[logicalIds.function(spec.kind)];
    if (fn?.DependsOn) fn.DependsOn = fn.DependsOn.filter((d) => d !== spec.roleLogicalId);
  }
}

/** After the service's own resources are merged: the budget check on the template as it will be uploaded. */
export async function checkTemplate(sls: ServerlessLike, state: PluginState, log?: Log): Promise<void> {
  const built = state.built;
  if (!built) return;
  const report = checkBudget(sls.service.provider.compiledCloudFormationTemplate, built.compiled.perJob);
  const jobs = Object.keys(report.perJob).length;
  say(
    log,
    `berth: ${jobs} job${jobs === 1 ? '' : 's'} → ${report.total} resources (${report.shared} shared), ${(report.templateBytes / 1024).toFixed(0)} KiB template`,
  );
  for (const bucket of state.externalBuckets ?? []) {
    warn(
      log,
      `berth: bucket ${bucket} is not in this stack — turn on its EventBridge notifications once (README, "S3 buckets this stack does not own")`,
    );
  }
}
