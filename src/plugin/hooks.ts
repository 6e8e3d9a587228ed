/**
 * What berth's Serverless plugin does, hook by hook (index.cjs wires them). Kept apart from the CommonJS shim
 * so it is plain TypeScript, and apart from the compiler so the compiler never knows about Serverless.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ECRClient } from '@aws-sdk/client-ecr';
import { enableEventBridgeOnOwnedBuckets } from '../compiler/buckets.js';
import { checkBudget } from '../compiler/budget.js';
import type { Resources, Template } from '../compiler/cfn.js';
import { imageParameterId } from '../compiler/ecr.js';
import { CompileError } from '../compiler/errors.js';
import { LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME } from '../compiler/functions.js';
import { type BuiltService, buildService } from '../compiler/index.js';
import { logicalIds } from '../compiler/naming.js';
import { buildAndPushImages, type ImageBuilders, type ImageDeployOptions, pinParameters } from './images.js';

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
  getProvider(name: 'aws'): { getStage(): string; getRegion?(): string };
}

export interface PluginState {
  built?: BuiltService;
  /** Set by `deployImages`: the image each built job deploys with. */
  pinnedImages?: { job: string; reference: string }[];
  externalBuckets?: string[];
}

interface Log {
  (message: string): void;
  notice?: (message: string) => void;
  warning?: (message: string) => void;
}

const say = (log: Log | undefined, message: string) => (log?.notice ?? log ?? console.log)(message);
const warn = (log: Log | undefined, message: string) => (log?.warning ?? log ?? console.warn)(message);

/** The bootstrap template of the image repositories, written beside Serverless's own templates. */
export const IMAGES_TEMPLATE_FILE = 'berth-images.json';

/** What `deployImages` needs from outside; the plugin passes nothing (real clients, the real builder). */
export type DeployImagesDeps = Partial<
  Pick<
    ImageDeployOptions,
    'cloudformation' | 'ecr' | 'pushTarget' | 'onPushed' | 'scanIntervalMs' | 'stackWaitSeconds'
  >
> & { builders?: ImageBuilders };

/**
 * `before:deploy:deploy`: before Serverless updates the service stack, deploy the image repositories, build and
 * push the `task.build` jobs' images, run the scan gate, and pin each image by digest in the template.
 */
export async function deployImages(
  sls: ServerlessLike,
  state: PluginState,
  log?: Log,
  deps: DeployImagesDeps = {},
): Promise<void> {
  const built = state.built;
  if (!built || Object.keys(built.compiled.parameters).length === 0) {
    if (!built && sls.service.provider.compiledCloudFormationTemplate?.Parameters) {
      const pending = Object.keys(sls.service.provider.compiledCloudFormationTemplate.Parameters).filter(
        (p) => /^BerthJob.*Image$|^BerthConsoleImage$/.test(p),
      );
      if (pending.length)
        throw new CompileError(
          `berth: the package holds jobs berth builds (${pending.join(', ')}) — run serverless deploy without --package, so berth builds and pins their images`,
        );
    }
    return;
  }
  const provider = sls.getProvider('aws');
  const region = provider.getRegion?.();
  const client = { ...(region ? { region } : {}) };
  const builders = deps.builders ?? ((await import('../image/index.js')) as ImageBuilders);
  const pinned = await buildAndPushImages({
    projectDir: sls.serviceDir,
    compiled: built.compiled,
    jobs: built.jobs,
    cloudformation: deps.cloudformation ?? new CloudFormationClient(client),
    ecr: deps.ecr ?? new ECRClient(client),
    builders,
    say: (line) => say(log, line),
    ...(deps.pushTarget ? { pushTarget: deps.pushTarget } : {}),
    ...(deps.onPushed ? { onPushed: deps.onPushed } : {}),
    ...(deps.scanIntervalMs !== undefined ? { scanIntervalMs: deps.scanIntervalMs } : {}),
    ...(deps.stackWaitSeconds !== undefined ? { stackWaitSeconds: deps.stackWaitSeconds } : {}),
  });
  pinParameters(
    sls.service.provider.compiledCloudFormationTemplate,
    Object.fromEntries(pinned.map((p) => [p.parameter ?? imageParameterId(p.job), p.reference])),
  );
  state.pinnedImages = pinned.map((p) => ({ job: p.job, reference: p.reference }));
}

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
  // Built jobs' images: one parameter each, replaced by the pinned digest at deploy (deployImages below).
  if (Object.keys(built.compiled.parameters).length) {
    template.Parameters = { ...template.Parameters, ...built.compiled.parameters };
  }
  if (built.compiled.imagesTemplate) {
    const dir = join(sls.serviceDir, '.serverless');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, IMAGES_TEMPLATE_FILE),
      `${JSON.stringify(built.compiled.imagesTemplate, null, 2)}\n`,
    );
  }
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
