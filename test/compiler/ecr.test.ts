// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings are expected values here
/** The image repositories' bootstrap template, the pinned-image parameters, the pull grants; cfn-lint on both templates. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CfnValue, Template } from '../../src/compiler/cfn.js';
import { compileService, parseConfig } from '../../src/compiler/compile.js';
import type { BerthConfigInput } from '../../src/compiler/config.js';
import {
  imageParameterId,
  imagesStackName,
  type lifecyclePolicy,
  PINNED_IMAGE_PATTERN,
} from '../../src/compiler/ecr.js';
import { checkBuildPaths } from '../../src/compiler/imageChecks.js';
import { createNames, logicalIds } from '../../src/compiler/naming.js';
import { synthesizeTemplate } from '../../src/compiler/synth.js';
import { formatJobIssue } from '../../src/core/errors.js';
import type { Job } from '../../src/core/model/job.js';
import { validateJob } from '../../src/core/model/validate.js';
import { cfnLintTemplate } from '../helpers/cfnLint.js';
import { job } from './helpers.js';

const ASSETS = { launcher: 'l.zip', interceptor: 'i.zip', sweeper: 's.zip' };

function built(name: string, build: Record<string, string>, extra: Record<string, unknown> = {}): Job {
  const result = validateJob({ name, task: { build, ...extra } }, `jobs/${name}.ts`);
  if (!result.ok) throw new Error(result.issues.map(formatJobIssue).join('\n'));
  return result.job;
}

const thumbnail = built('thumbnail', { entry: 'tasks/thumbnail.ts' });
const report = built('report', { dockerfile: 'images/report/Dockerfile' });
const reportWeekly = built('report-weekly', { entry: 'tasks/weekly.ts' }, { architecture: 'arm64' });
const prebuilt = job({ name: 'prebuilt' });

function compile(config: BerthConfigInput = {}, jobs: Job[] = [thumbnail, report, reportWeekly, prebuilt]) {
  return compileService({ jobs, config, service: 'shop', stage: 'dev' });
}

const props = (t: Template, id: string) => t.Resources[id]!.Properties as Record<string, CfnValue>;

describe('the images bootstrap stack', () => {
  const compiled = compile();
  const images = compiled.imagesTemplate!;

  it('holds one retained repository for the service, immutable tags, scan on push, AES256, lifecycle rules', () => {
    expect(Object.keys(images.Resources)).toEqual(['BerthImagesRepository']);
    const repo = images.Resources.BerthImagesRepository!;
    expect(repo.DeletionPolicy).toBe('Retain');
    expect(repo.UpdateReplacePolicy).toBe('Retain');
    const p = props(images, 'BerthImagesRepository');
    expect(p.RepositoryName).toBe('berth/shop-dev');
    expect(p.ImageTagMutability).toBe('IMMUTABLE');
    expect(p.ImageScanningConfiguration).toEqual({ ScanOnPush: true });
    expect(p.EncryptionConfiguration).toEqual({ EncryptionType: 'AES256' });
    expect(images.Outputs?.BerthImagesRepositoryUri?.Value).toEqual({
      'Fn::GetAtt': ['BerthImagesRepository', 'RepositoryUri'],
    });
    expect(imagesStackName(createNames('shop', 'dev'))).toBe('shop-dev-images');
  });

  it('writes the lifecycle policy as readable JSON: keep N per job by tag prefix (longest name first), expire untagged after D days', () => {
    const text = (props(images, 'BerthImagesRepository').LifecyclePolicy as { LifecyclePolicyText: string })
      .LifecyclePolicyText;
    expect(text).toContain('\n  "rules": [');
    const policy = JSON.parse(text) as ReturnType<typeof lifecyclePolicy>;
    expect(policy.rules.map((r) => [r.rulePriority, r.selection])).toEqual([
      [
        1,
        {
          tagStatus: 'tagged',
          tagPrefixList: ['report-weekly-'],
          countType: 'imageCountMoreThan',
          countNumber: 10,
        },
      ],
      [
        2,
        {
          tagStatus: 'tagged',
          tagPrefixList: ['thumbnail-'],
          countType: 'imageCountMoreThan',
          countNumber: 10,
        },
      ],
      [
        3,
        { tagStatus: 'tagged', tagPrefixList: ['report-'], countType: 'imageCountMoreThan', countNumber: 10 },
      ],
      [4, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }],
    ]);
    expect(policy.rules.every((r) => r.action.type === 'expire')).toBe(true);
  });

  it('per job: one repository each, KMS encryption, the settings given', () => {
    const t = compile({
      images: {
        repository: 'job',
        encryption: { kmsKey: 'alias/images' },
        keepLast: 3,
        untaggedDays: 1,
        scanOnPush: false,
      },
    }).imagesTemplate!;
    expect(Object.keys(t.Resources).sort()).toEqual([
      'BerthImagesReportRepository',
      'BerthImagesReportWeeklyRepository',
      'BerthImagesThumbnailRepository',
    ]);
    const p = props(t, 'BerthImagesThumbnailRepository');
    expect(p.RepositoryName).toBe('berth/shop-dev/thumbnail');
    expect(p.EncryptionConfiguration).toEqual({ EncryptionType: 'KMS', KmsKey: 'alias/images' });
    expect(p.ImageScanningConfiguration).toEqual({ ScanOnPush: false });
    const rules = JSON.parse(
      (p.LifecyclePolicy as { LifecyclePolicyText: string }).LifecyclePolicyText,
    ).rules;
    expect(rules[0].selection).toMatchObject({ tagPrefixList: ['thumbnail-'], countNumber: 3 });
    expect(rules[1].selection).toMatchObject({ tagStatus: 'untagged', countNumber: 1 });
    expect(cfnLintTemplate(t, 'images-per-job')).toEqual({ status: 0, output: '' });
  });

  it('is absent when no job builds, or when another registry is used', () => {
    expect(compile({}, [prebuilt]).imagesTemplate).toBeUndefined();
    expect(
      compile({ images: { registry: 'registry.example.com:5000/jobs' } }).imagesTemplate,
    ).toBeUndefined();
  });

  it('passes cfn-lint', () => {
    expect(cfnLintTemplate(images, 'images')).toEqual({ status: 0, output: '' });
  });
});

describe('the service stack of built jobs', () => {
  const compiled = compile();
  const { template } = synthesizeTemplate(compiled, ASSETS);

  it('takes each built image as a parameter that only accepts a digest-pinned reference', () => {
    const td = props(template, logicalIds.taskDefinition('thumbnail'));
    const container = (td.ContainerDefinitions as Record<string, CfnValue>[])[0]!;
    expect(container.Image).toEqual({ Ref: imageParameterId('thumbnail') });
    const parameter = template.Parameters![imageParameterId('thumbnail')]!;
    expect(parameter.AllowedPattern).toBe(PINNED_IMAGE_PATTERN);
    const pattern = new RegExp(PINNED_IMAGE_PATTERN);
    expect(
      pattern.test(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/berth/shop-dev@sha256:${'a'.repeat(64)}`),
    ).toBe(true);
    expect(pattern.test('123456789012.dkr.ecr.eu-west-1.amazonaws.com/berth/shop-dev:thumbnail-abc')).toBe(
      false,
    );
    // A prebuilt image stays as written, with no parameter.
    const pre = props(template, logicalIds.taskDefinition('prebuilt'));
    expect((pre.ContainerDefinitions as Record<string, CfnValue>[])[0]!.Image).toBe(
      'public.ecr.aws/docker/library/node:22-alpine',
    );
    expect(template.Parameters![imageParameterId('prebuilt')]).toBeUndefined();
    expect(Object.keys(compiled.parameters).sort()).toEqual([
      'BerthJobReportImage',
      'BerthJobReportWeeklyImage',
      'BerthJobThumbnailImage',
    ]);
  });

  it('lets the execution role pull from the berth repository', () => {
    const role = props(template, logicalIds.executionRole);
    const statements = (
      role.Policies as { PolicyDocument: { Statement: { Sid: string; Resource: CfnValue[] }[] } }[]
    )[0]!.PolicyDocument.Statement;
    expect(statements.find((s) => s.Sid === 'PullJobImages')?.Resource).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/berth/shop-dev' },
    ]);
    expect(statements.find((s) => s.Sid === 'EcrLogin')).toBeDefined();
  });

  it('passes cfn-lint', () => {
    expect(cfnLintTemplate(template, 'images-service')).toEqual({ status: 0, output: '' });
  });
});

describe('custom.berth.images validation', () => {
  const message = (images: unknown) => {
    try {
      parseConfig({ images });
    } catch (error) {
      return (error as Error).message;
    }
    return 'accepted';
  };

  it('names the field and the fix', () => {
    expect(message({ failOn: 'MEDIUM' })).toBe(
      `custom.berth.images.failOn: unknown severity — use 'CRITICAL' or 'HIGH'`,
    );
    expect(message({ failOn: 'HIGH', scanOnPush: false })).toBe(
      'custom.berth.images.failOn: needs scanOnPush: true — the gate reads the scan of each push; turn scanOnPush on or remove failOn',
    );
    expect(message({ repository: 'stage' })).toBe(
      `custom.berth.images.repository: unknown repository layout — use 'service' or 'job'`,
    );
    expect(message({ encryption: { kmsKey: 'my key' } })).toBe(
      'custom.berth.images.encryption.kmsKey: is not a KMS key — give a key ARN, a key id or alias/<name>',
    );
    expect(message({ failOn: 'CRITICAL' })).toBe('accepted');
  });
});

describe('checkBuildPaths: what needs the project on disk', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-build-paths-'));
  const outside = mkdtempSync(join(tmpdir(), 'berth-outside-'));
  mkdirSync(join(root, 'tasks'));
  mkdirSync(join(root, 'images/report'), { recursive: true });
  writeFileSync(join(root, 'tasks/thumbnail.ts'), 'console.log(1);\n');
  writeFileSync(join(root, 'images/report/Dockerfile'), 'FROM scratch\n');
  writeFileSync(join(outside, 'Dockerfile'), 'FROM scratch\n');
  symlinkSync(join(outside, 'Dockerfile'), join(root, 'images/linked.Dockerfile'));
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
  const lines = (jobs: Job[]) => checkBuildPaths(jobs, root).map(formatJobIssue);

  it('accepts files that exist inside the project', () => {
    expect(lines([thumbnail, report])).toEqual([]);
  });

  it('names the file, the field and the fix for each problem', () => {
    expect(
      lines([
        built('missing', { entry: 'tasks/missing.ts' }),
        built('escape', { dockerfile: '../elsewhere/Dockerfile' }),
        built('linked', { dockerfile: 'images/linked.Dockerfile' }),
        built('nofile', { dockerfile: 'images/nope/Dockerfile' }),
        built('ctx', { dockerfile: 'images/report/Dockerfile', context: 'images/report/Dockerfile' }),
      ]),
    ).toEqual([
      `jobs/missing.ts: task.build.entry: tasks/missing.ts does not exist — create it or fix the path (relative to the project root, like 'tasks/missing.ts')`,
      'jobs/escape.ts: task.build.dockerfile: ../elsewhere/Dockerfile is outside the project — move the Dockerfile into the project (berth only builds what the project holds), like images/<job>/Dockerfile',
      'jobs/linked.ts: task.build.dockerfile: images/linked.Dockerfile is outside the project — move the Dockerfile into the project (berth only builds what the project holds), like images/<job>/Dockerfile',
      'jobs/nofile.ts: task.build.dockerfile: images/nope/Dockerfile does not exist — create it or fix the path (relative to the project root)',
      `jobs/ctx.ts: task.build.context: images/report/Dockerfile is not a folder — create it or leave context out to use the Dockerfile's folder`,
    ]);
  });
});
