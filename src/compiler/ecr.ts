/**
 * The images of `task.build` jobs: the ECR repositories (a bootstrap stack of their own, `<service>-<stage>-images`,
 * deployed before the service stack so the first push has somewhere to go), their lifecycle policy, and how a
 * task definition names its image (a parameter that only accepts `repo@sha256:…`, filled in at deploy).
 * See docs/images.md for why the repositories live in a separate stack.
 */
import type { Job } from '../core/model/job.js';
import { taskBuild } from '../core/model/task.js';
import { buildsConsoleImage, CONSOLE_IMAGE_NAME, consoleRepositoryName } from './appRunner.js';
import { type CfnValue, getAtt, ref, sub, type Template } from './cfn.js';
import type { ImagesConfig } from './config.js';
import type { CompileContext } from './context.js';
import { CompileError } from './errors.js';
import type { Names } from './naming.js';
import { pascal } from './naming.js';

/** ECR: repository names are 2–256 characters of lowercase path segments. */
const REPOSITORY_NAME_MAX = 256;
/** ECR: `LifecyclePolicyText` is 100–30720 characters. */
const LIFECYCLE_POLICY_MAX = 30_720;
/** A pinned image: anything before `@sha256:` and 64 hex digits. */
export const PINNED_IMAGE_PATTERN = '^[^@\\s]+@sha256:[0-9a-f]{64}$';

/** Jobs whose image berth builds. */
export function buildJobs(jobs: readonly Job[]): Job[] {
  return jobs.filter((j) => j.task.build !== undefined);
}

/** Name of the bootstrap stack that holds the repositories. */
export function imagesStackName(names: Names): string {
  return `${names.service}-${names.stage}-images`;
}

/** The repository a job's image goes to. */
export function repositoryName(names: Names, images: ImagesConfig, job: string): string {
  const name = images.repository === 'job' ? `berth/${names.base}/${job}` : `berth/${names.base}`;
  if (name.length > REPOSITORY_NAME_MAX) throw new CompileError(`${name}: repository name too long`);
  return name;
}

/** Logical id of the console image's repository in the bootstrap stack (console.appRunner without image). */
export const CONSOLE_REPOSITORY_ID = 'BerthImagesConsoleRepository';

/** Logical id of a repository in the bootstrap stack. */
export function repositoryLogicalId(images: ImagesConfig, job: string): string {
  return images.repository === 'job' ? `BerthImages${pascal(job)}Repository` : 'BerthImagesRepository';
}

/** Logical id of the stack parameter holding a built job's pinned image. */
export function imageParameterId(job: string): string {
  return `BerthJob${pascal(job)}Image`;
}

/** The tag prefix of a job's images (`<job>-<content hash>`), selected by its lifecycle rule. */
export function jobTagPrefix(job: string): string {
  return `${job}-`;
}

export interface LifecycleRule {
  rulePriority: number;
  description: string;
  selection:
    | {
        tagStatus: 'tagged';
        tagPrefixList: string[];
        countType: 'imageCountMoreThan';
        countNumber: number;
      }
    | { tagStatus: 'untagged'; countType: 'sinceImagePushed'; countUnit: 'days'; countNumber: number };
  action: { type: 'expire' };
}

/**
 * The lifecycle policy of one repository: keep the last `keepLast` images of each job (by its tag prefix),
 * expire untagged images after `untaggedDays`. Longer job names come first: `report-weekly-…` also starts
 * with `report-`, and ECR never lets a lower-priority rule expire an image a higher-priority rule selected.
 */
export function lifecyclePolicy(
  jobNames: readonly string[],
  images: ImagesConfig,
): { rules: LifecycleRule[] } {
  const ordered = [...new Set(jobNames)].sort((a, b) => b.length - a.length || a.localeCompare(b));
  const rules: LifecycleRule[] = ordered.map((job, i) => ({
    rulePriority: i + 1,
    description: `keep the last ${images.keepLast} images of job ${job}`,
    selection: {
      tagStatus: 'tagged',
      tagPrefixList: [jobTagPrefix(job)],
      countType: 'imageCountMoreThan',
      countNumber: images.keepLast,
    },
    action: { type: 'expire' },
  }));
  rules.push({
    rulePriority: ordered.length + 1,
    description: `expire untagged images after ${images.untaggedDays} day${images.untaggedDays === 1 ? '' : 's'}`,
    selection: {
      tagStatus: 'untagged',
      countType: 'sinceImagePushed',
      countUnit: 'days',
      countNumber: images.untaggedDays,
    },
    action: { type: 'expire' },
  });
  return { rules };
}

export interface ImageRepository {
  logicalId: string;
  name: string;
  jobs: string[];
}

/** The repositories of a service's build jobs, each with the jobs it holds. */
export function imageRepositories(
  jobs: readonly Job[],
  names: Names,
  images: ImagesConfig,
): ImageRepository[] {
  const byId = new Map<string, ImageRepository>();
  for (const job of buildJobs(jobs)) {
    const logicalId = repositoryLogicalId(images, job.name);
    const repo = byId.get(logicalId) ?? {
      logicalId,
      name: repositoryName(names, images, job.name),
      jobs: [],
    };
    repo.jobs.push(job.name);
    byId.set(logicalId, repo);
  }
  return [...byId.values()];
}

/** Output key of a repository's URI in the bootstrap stack. */
export function repositoryUriOutput(logicalId: string): string {
  return `${logicalId}Uri`;
}

/**
 * The bootstrap template: one `AWS::ECR::Repository` per repository, retained when the stack goes (images
 * outlive a `serverless remove`; docs/images.md says how to clean up). `undefined` when no job builds.
 */
export function compileImagesTemplate(jobs: readonly Job[], ctx: CompileContext): Template | undefined {
  const images = ctx.config.images;
  if (images.registry) return undefined;
  const repos = imageRepositories(jobs, ctx.names, images);
  // The runs console on App Runner (src/compiler/appRunner.ts): its own repository, tags `console-<hash>`.
  if (buildsConsoleImage(ctx)) {
    const clash = repos.find((r) => r.name === consoleRepositoryName(ctx.names));
    if (clash)
      throw new CompileError(
        `custom.berth.console.appRunner: the console image's repository ${clash.name} is also job ${clash.jobs[0]}'s (images.repository: job) — rename the job, or set console.appRunner.image`,
      );
    repos.push({
      logicalId: CONSOLE_REPOSITORY_ID,
      name: consoleRepositoryName(ctx.names),
      jobs: [CONSOLE_IMAGE_NAME],
    });
  }
  if (repos.length === 0) return undefined;
  const template: Template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `berth image repositories of ${ctx.names.service} (${ctx.names.stage}); deployed before the service stack`,
    Resources: {},
    Outputs: {},
  };
  for (const repo of repos) {
    const policy = JSON.stringify(lifecyclePolicy(repo.jobs, images), null, 2);
    if (policy.length > LIFECYCLE_POLICY_MAX) {
      throw new CompileError(
        `custom.berth.images.repository: the lifecycle policy of ${repo.name} (${repo.jobs.length} jobs) is ${policy.length} characters, above ECR's ${LIFECYCLE_POLICY_MAX} — use repository: 'job' (one repository per job)`,
      );
    }
    template.Resources[repo.logicalId] = {
      Type: 'AWS::ECR::Repository',
      // Images outlive the stack: a removed stack must not delete what running tasks or a rollback pull.
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        RepositoryName: repo.name,
        ImageTagMutability: 'IMMUTABLE',
        ImageScanningConfiguration: { ScanOnPush: images.scanOnPush },
        EncryptionConfiguration:
          images.encryption === 'AES256'
            ? { EncryptionType: 'AES256' }
            : { EncryptionType: 'KMS', KmsKey: images.encryption.kmsKey },
        LifecyclePolicy: { LifecyclePolicyText: policy },
        Tags: [
          { Key: 'berth:service', Value: ctx.names.base },
          ...(images.repository === 'job' && repo.logicalId !== CONSOLE_REPOSITORY_ID
            ? [{ Key: 'berth:job', Value: repo.jobs[0]! }]
            : []),
        ],
      },
    };
    template.Outputs![repositoryUriOutput(repo.logicalId)] = {
      Description: `URI of ${repo.name} (jobs: ${repo.jobs.join(', ')})`,
      Value: getAtt(repo.logicalId, 'RepositoryUri'),
    };
  }
  return template;
}

/** What a task definition's `Image` is: the job's own image, or the parameter of a built one. */
export function taskImage(job: Job): CfnValue {
  if (job.task.image !== undefined) return job.task.image;
  return ref(imageParameterId(job.name));
}

/** One parameter per built job: only a digest-pinned reference is accepted (never a moving tag). */
export function imageParameters(jobs: readonly Job[]): NonNullable<Template['Parameters']> {
  const out: NonNullable<Template['Parameters']> = {};
  for (const job of buildJobs(jobs)) {
    const build = taskBuild(job.task)!;
    out[imageParameterId(job.name)] = {
      Type: 'String',
      Description: `Image of job ${job.name}, built by berth from ${'entry' in build ? build.entry : build.dockerfile} and pinned by digest (berth deploy fills it in)`,
      AllowedPattern: PINNED_IMAGE_PATTERN,
      ConstraintDescription: 'must be pinned by digest: <registry>/<repository>@sha256:<64 hex>',
    };
  }
  return out;
}

/** ARNs of the berth repositories the build jobs pull from (for the execution role). */
export function imageRepositoryArns(jobs: readonly Job[], ctx: CompileContext): CfnValue[] {
  if (ctx.config.images.registry) return [];
  return imageRepositories(jobs, ctx.names, ctx.config.images).map((r) =>
    sub(`arn:\${AWS::Partition}:ecr:\${AWS::Region}:\${AWS::AccountId}:repository/${r.name}`),
  );
}
