/**
 * `serverless deploy`, before the service stack: the images of the `task.build` jobs. In order:
 *   1. the bootstrap stack `<service>-<stage>-images` (the ECR repositories, src/compiler/ecr.ts) is created or
 *      updated and waited for, so the first push has a repository to go to;
 *   2. berth logs in to ECR (GetAuthorizationToken) and builds + pushes each job's image (the builder uploads
 *      only the blobs the registry lacks, so an unchanged job uploads nothing);
 *   3. with `images.failOn`, it waits for each push's scan and refuses to go on when a finding reaches it;
 *   4. each task definition's image parameter is replaced by the pinned `repo@sha256:…` in the template
 *      Serverless is about to deploy.
 * docs/images.md explains why the repositories live in a stack of their own.
 */
import {
  type CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  type Stack,
  UpdateStackCommand,
  waitUntilStackCreateComplete,
  waitUntilStackUpdateComplete,
} from '@aws-sdk/client-cloudformation';
import { type ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { buildsConsoleImage, CONSOLE_IMAGE_NAME, consoleIds } from '../compiler/appRunner.js';
import type { CfnValue, Template } from '../compiler/cfn.js';
import type { CompiledService } from '../compiler/compile.js';
import {
  buildJobs,
  CONSOLE_REPOSITORY_ID,
  imageParameterId,
  imageRepositories,
  imagesStackName,
  repositoryUriOutput,
} from '../compiler/ecr.js';
import { CompileError } from '../compiler/errors.js';
import { BerthError } from '../core/errors.js';
import type { Job } from '../core/model/job.js';
import type {
  BuildDockerfileImage,
  BuildNodeImage,
  BuildProgress,
  BuildResult,
  RegistryCredentials,
  RegistryTarget,
} from '../image/types.js';
import { checkScanGate, countsText, waitForScan } from '../runtime/aws/imageScan.js';

export class ImageDeployError extends BerthError {
  override name = 'ImageDeployError';
}

export interface ImageBuilders {
  buildNodeImage: BuildNodeImage;
  buildDockerfileImage: BuildDockerfileImage;
  /** The console's App Runner image (src/console/image.ts); loaded on first use when absent. */
  buildConsoleImage?: (
    options: import('../console/image.js').BuildConsoleImageOptions,
  ) => Promise<BuildResult>;
}

export interface ImageDeployOptions {
  projectDir: string;
  compiled: CompiledService;
  jobs: readonly Job[];
  cloudformation: CloudFormationClient;
  ecr: ECRClient;
  builders: ImageBuilders;
  say: (line: string) => void;
  /**
   * Test seam, never set by the plugin: where the blobs go instead of the ECR registry (moto's ECR has no OCI
   * distribution API). The task definitions still pin the ECR repository; the digest is the same content.
   */
  pushTarget?: (ecr: { registry: string; repository: string }) => RegistryTarget;
  /** Test seam: called after each push (tests register the pushed manifest with moto's ECR). */
  onPushed?: (job: Pick<Job, 'name'>, result: BuildResult, repositoryName: string) => Promise<void>;
  /** Time between scan polls. @default 5000 */
  scanIntervalMs?: number;
  /** Longest wait for the bootstrap stack, in seconds. @default 900 */
  stackWaitSeconds?: number;
}

export interface PinnedImage {
  /** The job, or `console` for the console's App Runner image. */
  job: string;
  /** The stack parameter the reference fills. @default imageParameterId(job) */
  parameter?: string;
  reference: string;
  digest: string;
  bytesUploaded: number;
  scan?: Record<string, number>;
}

const STACK_TAGS = (compiled: CompiledService) => [
  { Key: 'berth:service', Value: compiled.context.names.base },
  { Key: 'berth:stack', Value: 'images' },
];

/** Creates or updates the bootstrap stack and returns its outputs. */
export async function deployImagesStack(
  cfn: CloudFormationClient,
  stackName: string,
  template: Template,
  tags: { Key: string; Value: string }[],
  say: (line: string) => void,
  maxWaitTime = 900,
): Promise<Record<string, string>> {
  const body = JSON.stringify(template);
  const existing = await describeStack(cfn, stackName);
  const waiter = { client: cfn, maxWaitTime, minDelay: 2, maxDelay: 10 };
  if (!existing) {
    say(`berth: creating stack ${stackName} (image repositories)`);
    await cfn.send(new CreateStackCommand({ StackName: stackName, TemplateBody: body, Tags: tags }));
    await waitOrExplain(() => waitUntilStackCreateComplete(waiter, { StackName: stackName }), cfn, stackName);
  } else {
    if (existing.StackStatus === 'ROLLBACK_COMPLETE') {
      throw new ImageDeployError(
        `stack ${stackName} is ROLLBACK_COMPLETE (its creation failed) — delete it (aws cloudformation delete-stack --stack-name ${stackName}) and deploy again; its repositories were never created`,
      );
    }
    // The same template again: no update call at all (CloudFormation would refuse it: "No updates are to be performed").
    const deployed = await cfn.send(new GetTemplateCommand({ StackName: stackName }));
    if (
      deployed.TemplateBody &&
      sameJson(deployed.TemplateBody, body) &&
      existing.StackStatus?.endsWith('_COMPLETE')
    ) {
      say(`berth: stack ${stackName} is up to date`);
      return outputsOf(existing);
    }
    try {
      await cfn.send(new UpdateStackCommand({ StackName: stackName, TemplateBody: body, Tags: tags }));
      say(`berth: updating stack ${stackName} (image repositories)`);
      await waitOrExplain(
        () => waitUntilStackUpdateComplete(waiter, { StackName: stackName }),
        cfn,
        stackName,
      );
    } catch (error) {
      if (!/No updates are to be performed/i.test((error as Error).message)) throw error;
      say(`berth: stack ${stackName} is up to date`);
    }
  }
  return outputsOf(await describeStack(cfn, stackName));
}

function outputsOf(stack: Stack | undefined): Record<string, string> {
  return Object.fromEntries((stack?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

async function describeStack(cfn: CloudFormationClient, stackName: string): Promise<Stack | undefined> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    return out.Stacks?.[0];
  } catch (error) {
    if (/does not exist/i.test((error as Error).message)) return undefined;
    throw error;
  }
}

async function waitOrExplain(wait: () => Promise<unknown>, cfn: CloudFormationClient, stackName: string) {
  try {
    await wait();
  } catch (error) {
    const stack = await describeStack(cfn, stackName).catch(() => undefined);
    throw new ImageDeployError(
      `stack ${stackName} ended ${stack?.StackStatus ?? 'in an unknown state'}${stack?.StackStatusReason ? ` (${stack.StackStatusReason})` : ''} — see its events in the CloudFormation console; the service stack was not updated`,
      { cause: error },
    );
  }
}

/** Basic-auth credentials for ECR from GetAuthorizationToken (`AWS:<password>`, base64). */
export async function ecrCredentials(
  ecr: ECRClient,
): Promise<{ registry: string; credentials: RegistryCredentials }> {
  const out = await ecr.send(new GetAuthorizationTokenCommand({}));
  const data = out.authorizationData?.[0];
  if (!data?.authorizationToken || !data.proxyEndpoint) {
    throw new ImageDeployError(
      'ECR returned no authorization token — check the deploying role may call ecr:GetAuthorizationToken',
    );
  }
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return {
    registry: new URL(data.proxyEndpoint).host,
    credentials: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) },
  };
}

/** `host/path` of a repository URI. */
function splitUri(uri: string): { registry: string; repository: string } {
  const slash = uri.indexOf('/');
  return { registry: uri.slice(0, slash), repository: uri.slice(slash + 1) };
}

function progressLine(event: BuildProgress): string | undefined {
  const kb = (n: number) => `${(n / 1024).toFixed(n < 10_240 ? 1 : 0)} KiB`;
  switch (event.step) {
    case 'bundle':
      return `bundled ${event.entry} (${kb(event.bytes)}, ${event.ms} ms)`;
    case 'base':
      return `base ${event.reference} (${event.platform})`;
    case 'upload':
      return event.uploaded ? `uploaded ${event.digest.slice(0, 19)} (${kb(event.size)})` : undefined;
    case 'builder':
      return `building with ${event.name}`;
    case 'manifest':
      return `pushed ${event.reference}`;
    default:
      return undefined;
  }
}

/** Replaces each built job's image parameter by its pinned reference, in place. */
export function pinImages(template: Template, pins: Record<string, string>): void {
  pinParameters(
    template,
    Object.fromEntries(Object.entries(pins).map(([job, reference]) => [imageParameterId(job), reference])),
  );
}

/** Replaces each image parameter (`Ref`s to it) by its pinned reference and drops the parameter, in place. */
export function pinParameters(template: Template, pins: Record<string, string>): void {
  const byParameter = new Map(Object.entries(pins));
  const visit = (value: CfnValue): CfnValue => {
    if (Array.isArray(value)) return value.map(visit);
    if (value && typeof value === 'object') {
      const keys = Object.keys(value);
      if (
        keys.length === 1 &&
        keys[0] === 'Ref' &&
        typeof value.Ref === 'string' &&
        byParameter.has(value.Ref)
      ) {
        return byParameter.get(value.Ref)!;
      }
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
    }
    return value;
  };
  for (const resource of Object.values(template.Resources)) {
    if (resource.Properties) resource.Properties = visit(resource.Properties) as Record<string, CfnValue>;
  }
  for (const parameter of byParameter.keys()) delete template.Parameters?.[parameter];
  if (template.Parameters && Object.keys(template.Parameters).length === 0) delete template.Parameters;
}

/** Steps 1–3: repositories, build + push, scan gate. Returns the pinned image of each built job. */
export async function buildAndPushImages(options: ImageDeployOptions): Promise<PinnedImage[]> {
  const { compiled, say } = options;
  const jobs = buildJobs(options.jobs);
  const ctx = compiled.context;
  const withConsole = buildsConsoleImage(ctx);
  if (jobs.length === 0 && !withConsole) return [];
  const images = ctx.config.images;
  let repoOf: (job: Job) => { uri: string; name: string };
  let consoleRepo: { uri: string } | undefined;
  let target: (uri: string) => RegistryTarget;
  if (images.registry) {
    const fromEnv = process.env.BERTH_REGISTRY_USERNAME;
    const credentials = fromEnv
      ? async () => ({ username: fromEnv, password: process.env.BERTH_REGISTRY_PASSWORD ?? '' })
      : undefined;
    repoOf = (job) => {
      const uri = images.repository === 'job' ? `${images.registry}/${job.name}` : images.registry!;
      return { uri, name: splitUri(uri).repository };
    };
    target = (uri) => ({ ...splitUri(uri), ...(credentials ? { credentials } : {}) });
  } else {
    const template = compiled.imagesTemplate;
    if (!template)
      throw new CompileError('berth: no image repositories were compiled — run serverless deploy again');
    const stackName = imagesStackName(ctx.names);
    const outputs = await deployImagesStack(
      options.cloudformation,
      stackName,
      template,
      STACK_TAGS(compiled),
      say,
      options.stackWaitSeconds,
    );
    const repos = imageRepositories(jobs, ctx.names, images);
    if (withConsole) consoleRepo = { uri: outputs[repositoryUriOutput(CONSOLE_REPOSITORY_ID)] ?? '' };
    repoOf = (job) => {
      const repo = repos.find((r) => r.jobs.includes(job.name))!;
      const uri = outputs[repositoryUriOutput(repo.logicalId)];
      if (!uri)
        throw new ImageDeployError(
          `stack ${stackName}: output ${repositoryUriOutput(repo.logicalId)} is missing — delete the stack and deploy again`,
        );
      return { uri, name: repo.name };
    };
    const login = await ecrCredentials(options.ecr);
    target = (uri) => {
      const where = splitUri(uri);
      if (options.pushTarget) return options.pushTarget(where);
      return {
        ...where,
        credentials: async (registry) => (registry === login.registry ? login.credentials : undefined),
      };
    };
  }

  const pinned: PinnedImage[] = [];
  for (const job of jobs) {
    const repo = repoOf(job);
    const onProgress = (event: BuildProgress) => {
      const line = progressLine(event);
      if (line) say(`berth: image ${job.name}: ${line}`);
    };
    const build = job.task.build!;
    let result: BuildResult;
    try {
      result =
        build.entry !== undefined
          ? await options.builders.buildNodeImage({
              projectDir: options.projectDir,
              jobName: job.name,
              entry: build.entry,
              ...(build.base ? { base: build.base } : {}),
              architecture: job.task.architecture,
              target: target(repo.uri),
              onProgress,
            })
          : await options.builders.buildDockerfileImage({
              projectDir: options.projectDir,
              jobName: job.name,
              dockerfile: build.dockerfile!,
              ...(build.context ? { context: build.context } : {}),
              architecture: job.task.architecture,
              target: target(repo.uri),
              onProgress,
            });
    } catch (error) {
      const message = (error as Error).message;
      throw new ImageDeployError(
        message.startsWith(job.file) ? message : `${job.file}: task.build: ${message}`,
        { cause: error },
      );
    }
    await options.onPushed?.(job, result, repo.name);
    const reference = `${repo.uri}@${result.digest}`;
    const image: PinnedImage = {
      job: job.name,
      reference,
      digest: result.digest,
      bytesUploaded: result.bytesUploaded,
    };
    say(
      `berth: image ${job.name} → ${reference} (${result.bytesUploaded === 0 ? 'unchanged, nothing uploaded' : `${(result.bytesUploaded / 1024).toFixed(0)} KiB uploaded`})`,
    );
    if (images.failOn && !images.registry) {
      const response = await waitForScan(
        options.ecr,
        { repositoryName: repo.name, imageDigest: result.digest },
        {
          timeoutMs: images.scanTimeoutSeconds * 1000,
          ...(options.scanIntervalMs !== undefined ? { intervalMs: options.scanIntervalMs } : {}),
          onProgress: (status, ms) =>
            say(`berth: image ${job.name}: scan ${status} (${Math.round(ms / 1000)} s)`),
        },
      );
      image.scan = checkScanGate(job.name, reference, response, images.failOn);
      say(`berth: image ${job.name}: scan passed (${countsText(image.scan)}; failOn ${images.failOn})`);
    }
    pinned.push(image);
  }
  if (withConsole) pinned.push(await buildAndPushConsole(options, consoleRepo, target));
  return pinned;
}

/** The console's App Runner image into the images stack's console repository (custom.berth.console.appRunner). */
async function buildAndPushConsole(
  options: ImageDeployOptions,
  repo: { uri: string } | undefined,
  target: (uri: string) => RegistryTarget,
): Promise<PinnedImage> {
  const { compiled, say } = options;
  const ctx = compiled.context;
  const stackName = imagesStackName(ctx.names);
  if (!repo?.uri)
    throw new ImageDeployError(
      `stack ${stackName}: output ${repositoryUriOutput(CONSOLE_REPOSITORY_ID)} is missing — delete the stack and deploy again`,
    );
  const name = repo.uri.slice(repo.uri.indexOf('/') + 1);
  const build = options.builders.buildConsoleImage ?? (await import('../console/image.js')).buildConsoleImage;
  const appRunner = ctx.config.console.appRunner;
  const result = await build({
    manifest: compiled.manifest,
    target: target(repo.uri),
    projectDir: options.projectDir,
    ...(appRunner?.base ? { base: appRunner.base } : {}),
    onProgress: (event) => {
      const line = progressLine(event);
      if (line) say(`berth: console image: ${line}`);
    },
  });
  await options.onPushed?.({ name: CONSOLE_IMAGE_NAME }, result, name);
  const reference = `${repo.uri}@${result.digest}`;
  say(
    `berth: console image → ${reference} (${result.bytesUploaded === 0 ? 'unchanged, nothing uploaded' : `${(result.bytesUploaded / 1024).toFixed(0)} KiB uploaded`})`,
  );
  const image: PinnedImage = {
    job: CONSOLE_IMAGE_NAME,
    parameter: consoleIds.imageParameter,
    reference,
    digest: result.digest,
    bytesUploaded: result.bytesUploaded,
  };
  const images = ctx.config.images;
  if (images.failOn) {
    const response = await waitForScan(
      options.ecr,
      { repositoryName: name, imageDigest: result.digest },
      {
        timeoutMs: images.scanTimeoutSeconds * 1000,
        ...(options.scanIntervalMs !== undefined ? { intervalMs: options.scanIntervalMs } : {}),
        onProgress: (status, ms) => say(`berth: console image: scan ${status} (${Math.round(ms / 1000)} s)`),
      },
    );
    image.scan = checkScanGate(CONSOLE_IMAGE_NAME, reference, response, images.failOn);
    say(`berth: console image: scan passed (${countsText(image.scan)}; failOn ${images.failOn})`);
  }
  return image;
}
