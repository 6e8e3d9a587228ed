/**
 * `berth image list --stage`: each built job's current image, found through its deployed task definition (else
 * the newest `<job>-<hash>` tag), with ECR's scan summary — against moto's ECS and ECR, the repository created
 * by berth's own bootstrap stack.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ECRClient, PutImageCommand, StartImageScanCommand } from '@aws-sdk/client-ecr';
import { ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileService } from '../../../src/compiler/compile.js';
import { imagesStackName } from '../../../src/compiler/ecr.js';
import { formatJobIssue } from '../../../src/core/errors.js';
import type { Job } from '../../../src/core/model/job.js';
import { validateJob } from '../../../src/core/model/validate.js';
import { deployImagesStack } from '../../../src/plugin/images.js';
import { imageListTable, listJobImages } from '../../../src/runtime/aws/imageList.js';
import { jobFile, makeProject, REPO_ROOT, removeProject } from '../../loader/tmpProject.js';
import { type MotoServer, startMoto } from './motoServer.js';

const REGION = 'us-east-1';
let moto: MotoServer;
let ecr: ECRClient;
let ecs: ECSClient;
let repositoryUri: string;

function built(name: string): Job {
  const result = validateJob({ name, task: { build: { entry: `tasks/${name}.ts` } } }, `jobs/${name}.ts`);
  if (!result.ok) throw new Error(result.issues.map(formatJobIssue).join('\n'));
  return result.job;
}

const jobs = [built('thumbnail'), built('report'), built('report-weekly'), built('never-pushed')];
const compiled = compileService({ jobs, service: 'shop', stage: 'dev' });
const names = compiled.context.names;

function manifest(n: number): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
      size: 1000 + n,
    },
    layers: [],
  });
}

async function put(tag: string, n: number): Promise<string> {
  const digest = `sha256:${n.toString(16).repeat(64).slice(0, 64)}`;
  await ecr.send(
    new PutImageCommand({
      repositoryName: 'berth/shop-dev',
      imageManifest: manifest(n),
      imageTag: tag,
      imageDigest: digest,
    }),
  );
  return digest;
}

beforeAll(async () => {
  moto = await startMoto();
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  const client = { region: REGION, endpoint: moto.endpoint };
  ecr = new ECRClient(client);
  ecs = new ECSClient(client);
  const outputs = await deployImagesStack(
    new CloudFormationClient(client),
    imagesStackName(names),
    compiled.imagesTemplate!,
    [],
    () => {},
    60,
  );
  repositoryUri = outputs.BerthImagesRepositoryUri!;
});
afterAll(async () => moto?.stop());

describe('listJobImages against moto', () => {
  it('shows the deployed image of each job, else its newest push, with the scan summary', async () => {
    const oldThumb = await put('thumbnail-aaaaaaaaaaaa', 1);
    const deployedThumb = await put('thumbnail-bbbbbbbbbbbb', 2);
    // A newer push the stack does not run yet: the list shows what is deployed.
    await put('thumbnail-cccccccccccc', 3);
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: names.taskFamily('thumbnail'),
        containerDefinitions: [
          { name: 'main', image: `${repositoryUri}@${deployedThumb}`, essential: true, memory: 512 },
        ],
      }),
    );
    await ecr.send(
      new StartImageScanCommand({
        repositoryName: 'berth/shop-dev',
        imageId: { imageDigest: deployedThumb },
      }),
    );
    const report = await put('report-dddddddddddd', 4);
    // `report-weekly-…` starts with `report-` too: never mistaken for report's image.
    const weekly = await put('report-weekly-eeeeeeeeeeee', 5);

    const rows = await listJobImages({ jobs, names, images: compiled.context.config.images, ecr, ecs });
    const byJob = Object.fromEntries(rows.map((r) => [r.job, r]));
    expect(byJob.thumbnail).toMatchObject({
      digest: deployedThumb,
      tags: ['thumbnail-bbbbbbbbbbbb'],
      source: 'task-definition',
      reference: `${repositoryUri}@${deployedThumb}`,
      scan: { status: 'COMPLETE', counts: { HIGH: 1 } },
    });
    expect(byJob.thumbnail!.digest).not.toBe(oldThumb);
    expect(byJob.report).toMatchObject({
      digest: report,
      source: 'newest-tag',
      scan: { status: 'NOT_SCANNED', counts: {} },
    });
    expect(byJob['report-weekly']).toMatchObject({ digest: weekly, tags: ['report-weekly-eeeeeeeeeeee'] });
    expect(byJob['never-pushed']).toMatchObject({ source: 'none', scan: { status: 'NO_IMAGE' } });

    const table = imageListTable(rows).split('\n');
    expect(table[0]).toMatch(/^JOB\s+TAG\s+DIGEST\s+PUSHED\s+SIZE\s+SCAN\s+FROM$/);
    expect(table.find((l) => l.startsWith('thumbnail'))).toMatch(
      /thumbnail-bbbbbbbbbbbb\s+sha256:222222222222.*HIGH 1\s+deployed$/,
    );
    expect(table.find((l) => l.startsWith('never-pushed'))).toMatch(/no image\s+—$/);
  });

  it('berth image list --stage prints the same, as a table and as JSON (the real binary, moto as the endpoint)', () => {
    const files: Record<string, string> = { 'serverless.yml': 'service: shop\n' };
    for (const j of jobs) {
      files[`jobs/${j.name}.ts`] = jobFile({
        name: j.name,
        task: { build: { entry: `tasks/${j.name}.ts` } },
      });
      files[`tasks/${j.name}.ts`] = 'console.log(1);\n';
    }
    const root = makeProject('image-list', files);
    try {
      const run = (args: string[]) =>
        spawnSync(process.execPath, [join(REPO_ROOT, 'bin/berth.js'), 'image', 'list', '-C', root, ...args], {
          encoding: 'utf8',
          timeout: 60_000,
          env: {
            ...process.env,
            NO_COLOR: '1',
            AWS_ENDPOINT_URL: moto.endpoint,
            AWS_REGION: REGION,
            AWS_ACCESS_KEY_ID: 'testing',
            AWS_SECRET_ACCESS_KEY: 'testing',
            // The SDK warns on stderr that it will need Node 22 from 2027; this machine runs Node 20.
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
        });
      const table = run(['--stage', 'dev']);
      expect(table.stderr).toBe('');
      expect(table.status).toBe(0);
      expect(table.stdout.split('\n')[0]).toMatch(/^JOB\s+TAG\s+DIGEST\s+PUSHED\s+SIZE\s+SCAN\s+FROM$/);
      expect(table.stdout).toMatch(
        /^thumbnail\s+thumbnail-bbbbbbbbbbbb\s+sha256:222222222222.*HIGH 1\s+deployed$/m,
      );
      const json = JSON.parse(run(['--stage', 'dev', '--json']).stdout) as { job: string; source: string }[];
      expect(json.map((r) => [r.job, r.source])).toEqual([
        ['never-pushed', 'none'],
        ['report', 'newest-tag'],
        ['report-weekly', 'newest-tag'],
        ['thumbnail', 'task-definition'],
      ]);
      const missing = run([]);
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain('--stage: required — name the deployed stage, like --stage dev');
    } finally {
      removeProject(root);
    }
  });
});
