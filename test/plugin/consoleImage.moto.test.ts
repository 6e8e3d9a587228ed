/**
 * `serverless deploy` with `custom.berth.console.appRunner` and no job that builds: the image step still
 * runs, creates the images stack with the console repository, builds the console image (berth's real builder,
 * on a tiny base in a real local registry) and pins it by digest in the App Runner service's ImageIdentifier,
 * with the `BerthConsoleImage` parameter gone. moto's CloudFormation and ECR are real; the blobs go to the
 * local registry through the same test seam as test/plugin/images.moto.test.ts (moto's ECR has no OCI API).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ECRClient } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleIds } from '../../src/compiler/appRunner.js';
import type { CfnValue, Template } from '../../src/compiler/cfn.js';
import { compileService } from '../../src/compiler/compile.js';
import { CONSOLE_REPOSITORY_ID, PINNED_IMAGE_PATTERN } from '../../src/compiler/ecr.js';
import { synthesizeTemplate } from '../../src/compiler/synth.js';
import { buildDockerfileImage, buildNodeImage } from '../../src/image/index.js';
import type { BuildResult } from '../../src/image/types.js';
import { deployImages, type PluginState, type ServerlessLike } from '../../src/plugin/hooks.js';
import { job } from '../compiler/helpers.js';
import { cfnLintTemplate } from '../helpers/cfnLint.js';
import { type LocalRegistry, startRegistry } from '../helpers/registry.js';
import { pushTinyBase, type TinyBase } from '../image/baseImage.js';
import { readImage } from '../image/support.js';
import { type MotoServer, startMoto } from '../runtime/aws/motoServer.js';

const ASSETS = { launcher: 'l.zip', interceptor: 'i.zip', sweeper: 's.zip' };
const REGION = 'us-east-1';

let moto: MotoServer;
let registry: LocalRegistry;
let base: TinyBase;
let project: string;

beforeAll(async () => {
  [moto, registry] = await Promise.all([startMoto(), startRegistry()]);
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  base = await pushTinyBase(registry.host, {
    repository: 'base/node',
    tag: 'tiny',
    architectures: ['amd64'],
  });
  project = mkdtempSync(join(tmpdir(), 'berth-console-deploy-'));
}, 120_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), registry?.stop()]);
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('deploying the console on App Runner (moto + a real registry)', { timeout: 120_000 }, () => {
  it('builds the console image into the images stack repository and pins it in the service', async () => {
    const jobs = [job({ name: 'nightly', trigger: { schedule: { expression: 'cron(0 3 * * ? *)' } } })];
    const compiled = compileService({
      jobs,
      config: { console: { appRunner: { base: base.reference } } },
      service: 'shop',
      stage: 'dev',
    });
    const template = synthesizeTemplate(compiled, ASSETS).template;
    expect(template.Parameters?.[consoleIds.imageParameter]).toBeDefined();
    const sls: ServerlessLike = {
      serviceDir: project,
      service: { service: 'shop', provider: { compiledCloudFormationTemplate: template } },
      getProvider: () => ({ getStage: () => 'dev', getRegion: () => REGION }),
    };
    const state: PluginState = { built: { compiled, jobs, bundles: [] } };
    const lines: string[] = [];
    const pushed: { name: string; result: BuildResult; repository: string }[] = [];
    const cfn = new CloudFormationClient({ region: REGION, endpoint: moto.endpoint });
    await deployImages(sls, state, (line: string) => lines.push(line), {
      cloudformation: cfn,
      ecr: new ECRClient({ region: REGION, endpoint: moto.endpoint }),
      builders: { buildNodeImage, buildDockerfileImage },
      pushTarget: ({ repository }) => ({ registry: registry.host, repository }),
      onPushed: async (j, result, repository) => {
        pushed.push({ name: j.name, result, repository });
      },
      stackWaitSeconds: 60,
    });

    // The images stack holds the console repository.
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'shop-dev-images' }))).Stacks![0]!;
    expect(stack.StackStatus).toBe('CREATE_COMPLETE');
    const uri = stack.Outputs!.find((o) => o.OutputKey === `${CONSOLE_REPOSITORY_ID}Uri`)!.OutputValue!;
    expect(uri).toBe('123456789012.dkr.ecr.us-east-1.amazonaws.com/berth/shop-dev/console');

    // One image pushed, the console's, into that repository (here: the same path in the local registry).
    expect(pushed.map((p) => [p.name, p.repository])).toEqual([['console', 'berth/shop-dev/console']]);
    const { config } = await readImage(registry.host, 'berth/shop-dev/console', pushed[0]!.result.digest);
    expect(config.config?.Entrypoint).toEqual(['node', '/app/index.mjs']);

    // The service pulls exactly that digest; the parameter is gone.
    const service = template.Resources[consoleIds.service]!.Properties as Record<string, CfnValue>;
    const identifier = (
      (service.SourceConfiguration as Record<string, CfnValue>).ImageRepository as Record<string, CfnValue>
    ).ImageIdentifier;
    expect(identifier).toBe(`${uri}@${pushed[0]!.result.digest}`);
    expect(identifier).toMatch(new RegExp(PINNED_IMAGE_PATTERN));
    expect((template as Template).Parameters?.[consoleIds.imageParameter]).toBeUndefined();
    expect(state.pinnedImages).toEqual([{ job: 'console', reference: identifier }]);
    expect(lines.some((l) => l.startsWith(`berth: console image → ${uri}@sha256:`))).toBe(true);
    expect(cfnLintTemplate(template, 'console-pinned')).toEqual({ status: 0, output: '' });
  }, 120_000); // bundles and pushes an image, then cfn-lint: seconds each, more on a busy machine
});
