/**
 * `serverless deploy`'s image step (src/plugin/images.ts through the `before:deploy:deploy` hook): the first
 * deploy into an empty moto account, a later one with no change, one with a code change and a new job, and the
 * scan gate. Real parts: moto's CloudFormation and ECR (bootstrap stack, repositories, login, scan findings),
 * berth's real image builder, and a real OCI registry (Debian's docker-registry) on 127.0.0.1.
 *
 * What is not real, and why: moto's ECR has no OCI distribution API, so the blobs go to the local registry
 * (`pushTarget`, a test-only seam) while the task definitions still pin the ECR repository URI from the
 * bootstrap stack, with the same digest. After each push the test registers the pushed manifest with moto's ECR
 * (PutImage) and, because moto does not scan on push, starts the scan the way ECR's scan on push would.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  GetTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeRepositoriesCommand,
  ECRClient,
  PutImageCommand,
  StartImageScanCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CfnValue, Template } from '../../src/compiler/cfn.js';
import { compileService } from '../../src/compiler/compile.js';
import type { BerthConfigInput } from '../../src/compiler/config.js';
import { imageParameterId, PINNED_IMAGE_PATTERN } from '../../src/compiler/ecr.js';
import { logicalIds } from '../../src/compiler/naming.js';
import { synthesizeTemplate } from '../../src/compiler/synth.js';
import { formatJobIssue } from '../../src/core/errors.js';
import type { Job } from '../../src/core/model/job.js';
import { validateJob } from '../../src/core/model/validate.js';
import { buildDockerfileImage, buildNodeImage } from '../../src/image/index.js';
import type { BuildResult } from '../../src/image/types.js';
import { deployImages, type PluginState, type ServerlessLike } from '../../src/plugin/hooks.js';
import { cfnLintTemplate } from '../helpers/cfnLint.js';
import { type LocalRegistry, startRegistry } from '../helpers/registry.js';
import { pushTinyBase, type TinyBase } from '../image/baseImage.js';
import { makeProject, taskSource } from '../image/support.js';
import { type MotoServer, startMoto } from '../runtime/aws/motoServer.js';

const ASSETS = { launcher: 'l.zip', interceptor: 'i.zip', sweeper: 's.zip' };
const REGION = 'us-east-1';

let moto: MotoServer;
let registry: LocalRegistry;
let base: TinyBase;
let cfn: CloudFormationClient;
let ecr: ECRClient;
let project: string;

beforeAll(async () => {
  [moto, registry] = await Promise.all([startMoto(), startRegistry()]);
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  cfn = new CloudFormationClient({ region: REGION, endpoint: moto.endpoint });
  ecr = new ECRClient({ region: REGION, endpoint: moto.endpoint });
  base = await pushTinyBase(registry.host, {
    repository: 'base/node',
    tag: 'tiny',
    architectures: ['amd64', 'arm64'],
  });
  project = makeProject('hello v1');
});

afterAll(async () => {
  await Promise.all([moto?.stop(), registry?.stop()]);
  if (project) rmSync(project, { recursive: true, force: true });
});

function built(name: string, entry: string, extra: Record<string, unknown> = {}): Job {
  const result = validateJob(
    { name, task: { build: { entry, base: base.reference }, ...extra } },
    `jobs/${name}.ts`,
  );
  if (!result.ok) throw new Error(result.issues.map(formatJobIssue).join('\n'));
  return result.job;
}

/** The template the last `deploy` handed to the hook (read after a deploy that threw). */
let lastTemplate: Template | undefined;

interface Deploy {
  template: Template;
  lines: string[];
  state: PluginState;
  pushed: BuildResult[];
}

/** One `serverless deploy`: compile, then the `before:deploy:deploy` hook with moto and the local registry. */
async function deploy(jobs: Job[], config: BerthConfigInput = {}): Promise<Deploy> {
  const compiled = compileService({ jobs, config, service: 'shop', stage: 'dev' });
  const template = synthesizeTemplate(compiled, ASSETS).template;
  lastTemplate = template;
  const sls: ServerlessLike = {
    serviceDir: project,
    service: { service: 'shop', provider: { compiledCloudFormationTemplate: template } },
    getProvider: () => ({ getStage: () => 'dev', getRegion: () => REGION }),
  };
  const state: PluginState = { built: { compiled, jobs, bundles: [] } };
  const lines: string[] = [];
  const pushed: BuildResult[] = [];
  await deployImages(sls, state, (line: string) => lines.push(line), {
    cloudformation: cfn,
    ecr,
    builders: { buildNodeImage, buildDockerfileImage },
    pushTarget: ({ repository }) => ({ registry: registry.host, repository }),
    onPushed: async (_job, result, repositoryName) => {
      pushed.push(result);
      const res = await fetch(`${registry.url}/v2/${repositoryName}/manifests/${result.digest}`, {
        headers: {
          accept:
            'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
        },
      });
      expect(res.status).toBe(200);
      const manifest = await res.text();
      try {
        await ecr.send(
          new PutImageCommand({
            repositoryName,
            imageManifest: manifest,
            imageManifestMediaType: res.headers.get('content-type') ?? undefined,
            imageTag: result.tag,
            imageDigest: result.digest,
          }),
        );
      } catch (error) {
        // The same image and tag again (a deploy with no change): ECR answers the same.
        if ((error as Error).name !== 'ImageAlreadyExistsException') throw error;
      }
      try {
        await ecr.send(
          new StartImageScanCommand({ repositoryName, imageId: { imageDigest: result.digest } }),
        );
      } catch (error) {
        // One scan per image per day, as in ECR.
        if ((error as Error).name !== 'LimitExceededException') throw error;
      }
    },
    scanIntervalMs: 100,
    stackWaitSeconds: 60,
  });
  return { template, lines, state, pushed };
}

const containerImage = (template: Template, job: string) =>
  (
    (template.Resources[logicalIds.taskDefinition(job)]!.Properties as Record<string, CfnValue>)
      .ContainerDefinitions as Record<string, CfnValue>[]
  )[0]!.Image;

async function stack() {
  const out = await cfn.send(new DescribeStacksCommand({ StackName: 'shop-dev-images' }));
  return out.Stacks![0]!;
}

async function deployedTemplate(): Promise<Template> {
  const out = await cfn.send(new GetTemplateCommand({ StackName: 'shop-dev-images' }));
  return JSON.parse(out.TemplateBody!) as Template;
}

describe('deploying built images (moto + a real registry)', () => {
  let first: Deploy;
  let repositoryUri: string;

  it('first deploy into an empty account: the repository stack first, then build + push, then the digest pinned', async () => {
    first = await deploy([built('hello', 'tasks/hello.ts')]);
    const s = await stack();
    expect(s.StackStatus).toBe('CREATE_COMPLETE');
    repositoryUri = s.Outputs!.find((o) => o.OutputKey === 'BerthImagesRepositoryUri')!.OutputValue!;
    expect(repositoryUri).toMatch(/^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/berth\/shop-dev$/);

    const repos = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['berth/shop-dev'] }));
    expect(repos.repositories![0]!.imageTagMutability).toBe('IMMUTABLE');
    // The stack holds what moto does not apply (lifecycle policy) and keeps the repository when removed.
    const deployed = await deployedTemplate();
    expect(deployed.Resources.BerthImagesRepository!.DeletionPolicy).toBe('Retain');
    expect(
      JSON.parse(
        (
          deployed.Resources.BerthImagesRepository!.Properties!.LifecyclePolicy as {
            LifecyclePolicyText: string;
          }
        ).LifecyclePolicyText,
      ).rules.map(
        (r: { selection: { tagPrefixList?: string[] } }) => r.selection.tagPrefixList ?? 'untagged',
      ),
    ).toEqual([['hello-'], 'untagged']);

    // Order: the stack was ready before anything was pushed.
    const created = first.lines.findIndex((l) => l.includes('creating stack shop-dev-images'));
    const bundled = first.lines.findIndex((l) => l.includes('image hello: bundled tasks/hello.ts'));
    const pinnedLine = first.lines.findIndex((l) =>
      l.startsWith(`berth: image hello → ${repositoryUri}@sha256:`),
    );
    expect(created).toBeGreaterThanOrEqual(0);
    expect(bundled).toBeGreaterThan(created);
    expect(pinnedLine).toBeGreaterThan(bundled);

    const [result] = first.pushed;
    expect(result!.bytesUploaded).toBeGreaterThan(0);
    const image = containerImage(first.template, 'hello');
    expect(image).toBe(`${repositoryUri}@${result!.digest}`);
    expect(String(image)).toMatch(new RegExp(PINNED_IMAGE_PATTERN));
    expect(first.template.Parameters?.[imageParameterId('hello')]).toBeUndefined();
    expect(first.state.pinnedImages).toEqual([{ job: 'hello', reference: image }]);
    expect(cfnLintTemplate(first.template, 'images-pinned')).toEqual({ status: 0, output: '' });
  });

  it('a later deploy with no change: the stack is up to date, nothing is uploaded, the same digest is pinned', async () => {
    const again = await deploy([built('hello', 'tasks/hello.ts')]);
    expect(again.lines).toContain('berth: stack shop-dev-images is up to date');
    expect(again.pushed[0]!.bytesUploaded).toBe(0);
    expect(again.pushed[0]!.digest).toBe(first.pushed[0]!.digest);
    expect(again.lines.some((l) => l.endsWith('(unchanged, nothing uploaded)'))).toBe(true);
    expect(containerImage(again.template, 'hello')).toBe(containerImage(first.template, 'hello'));
  });

  it('a code change and a new job: the stack is updated (a lifecycle rule for the new job), only the changed layer goes up', async () => {
    writeFileSync(join(project, 'tasks', 'hello.ts'), taskSource('hello v2'));
    writeFileSync(join(project, 'tasks', 'weekly.ts'), taskSource('weekly'));
    const next = await deploy([built('hello', 'tasks/hello.ts'), built('hello-weekly', 'tasks/weekly.ts')]);
    expect(next.lines).toContain('berth: updating stack shop-dev-images (image repositories)');
    expect((await stack()).StackStatus).toBe('UPDATE_COMPLETE');
    const rules = JSON.parse(
      (
        (await deployedTemplate()).Resources.BerthImagesRepository!.Properties!.LifecyclePolicy as {
          LifecyclePolicyText: string;
        }
      ).LifecyclePolicyText,
    ).rules;
    expect(
      rules.map((r: { selection: { tagPrefixList?: string[] } }) => r.selection.tagPrefixList ?? 'untagged'),
    ).toEqual([['hello-weekly-'], ['hello-'], 'untagged']);
    const hello = next.pushed[0]!;
    expect(hello.digest).not.toBe(first.pushed[0]!.digest);
    // Base layers were already there: the app layer, and the config that names it, are the only uploads.
    expect(hello.layers.filter((l) => l.uploaded)).toHaveLength(1);
    expect(containerImage(next.template, 'hello')).toBe(`${repositoryUri}@${hello.digest}`);
    expect(containerImage(next.template, 'hello-weekly')).toBe(`${repositoryUri}@${next.pushed[1]!.digest}`);
  });

  it('the scan gate refuses an image with a HIGH finding under failOn HIGH and leaves the template unpinned', async () => {
    let error: Error | undefined;
    const jobs = [built('hello', 'tasks/hello.ts')];
    try {
      await deploy(jobs, { images: { failOn: 'HIGH' } });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe('ScanGateError');
    expect(error?.message).toContain('has HIGH 1 finding, at or above failOn HIGH');
    expect(error?.message).toContain('SEVERITY  PACKAGE          CVE            FIXED IN');
    expect(error?.message).toContain('HIGH      moto_fake@9.9.9  CVE-9999-9999  —');
    expect(containerImage(lastTemplate!, 'hello')).toEqual({ Ref: imageParameterId('hello') });
    expect(lastTemplate!.Parameters?.[imageParameterId('hello')]).toBeDefined();
  });

  it('the same image passes under failOn CRITICAL, with the scan summary in the log', async () => {
    const ok = await deploy([built('hello', 'tasks/hello.ts')], { images: { failOn: 'CRITICAL' } });
    expect(ok.lines.some((l) => /^berth: image hello: scan COMPLETE \(\d+ s\)$/.test(l))).toBe(true);
    expect(ok.lines).toContain('berth: image hello: scan passed (HIGH 1; failOn CRITICAL)');
    expect(String(containerImage(ok.template, 'hello'))).toMatch(new RegExp(PINNED_IMAGE_PATTERN));
  });

  it('names the job file and field when the base lacks the task architecture', async () => {
    const amdOnly = await pushTinyBase(registry.host, {
      repository: 'base/amd-only',
      tag: 'tiny',
      architectures: ['amd64'],
    });
    const result = validateJob(
      {
        name: 'armed',
        task: { build: { entry: 'tasks/hello.ts', base: amdOnly.reference }, architecture: 'arm64' },
      },
      'jobs/armed.ts',
    );
    if (!result.ok) throw new Error('invalid');
    await expect(deploy([result.job])).rejects.toThrow(/^jobs\/armed\.ts: task\.build.*arm64/s);
  });
});

describe('another registry (custom.berth.images.registry)', () => {
  it('pushes there directly: no repository stack, no ECR login, the task definition pins that registry', async () => {
    const jobs = [built('hello', 'tasks/hello.ts')];
    const config = { images: { registry: `${registry.host}/elsewhere/jobs`, repository: 'job' as const } };
    const compiled = compileService({ jobs, config, service: 'other', stage: 'dev' });
    expect(compiled.imagesTemplate).toBeUndefined();
    const template = synthesizeTemplate(compiled, ASSETS).template;
    const lines: string[] = [];
    const failing = new CloudFormationClient({ region: REGION, endpoint: 'http://127.0.0.1:9' });
    await deployImages(
      {
        serviceDir: project,
        service: { service: 'other', provider: { compiledCloudFormationTemplate: template } },
        getProvider: () => ({ getStage: () => 'dev', getRegion: () => REGION }),
      },
      { built: { compiled, jobs, bundles: [] } },
      (line: string) => lines.push(line),
      // Any call to CloudFormation or ECR would fail: nothing may be asked of them.
      {
        cloudformation: failing,
        ecr: new ECRClient({ region: REGION, endpoint: 'http://127.0.0.1:9' }),
        builders: { buildNodeImage, buildDockerfileImage },
      },
    );
    const image = String(containerImage(template, 'hello'));
    expect(image).toMatch(
      new RegExp(`^${registry.host.replace(/\./g, '\\.')}/elsewhere/jobs/hello@sha256:[0-9a-f]{64}$`),
    );
    const res = await fetch(`${registry.url}/v2/elsewhere/jobs/hello/manifests/${image.split('@')[1]}`, {
      method: 'HEAD',
      headers: {
        accept:
          'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    expect(res.status).toBe(200);
    expect(lines.some((l) => l.includes('stack'))).toBe(false);
  });
});
