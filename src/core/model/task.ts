import { z } from 'zod';
import { checkFargateSize } from '../fargate.js';
import { strictObject } from './common.js';

const SECRET_ARN_RE =
  /^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:\d{12}:secret:.+|ssm:[a-z0-9-]+:\d{12}:parameter\/.+)$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KMS_KEY_ARN_RE = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** An EFS volume mounted into the container (transit encryption is always on). */
export const efsVolumeSchema = strictObject({
  /** `fs-…` id of the file system. */
  fileSystemId: z
    .string()
    .regex(/^fs-[0-9a-f]{8,40}$/, { error: 'is not an EFS file system id — use fs-0123456789abcdef0' }),
  /** `fsap-…` id of an access point (recommended: it pins the POSIX user and root directory). */
  accessPointId: z
    .string()
    .regex(/^fsap-[0-9a-f]{8,40}$/, { error: 'is not an EFS access point id — use fsap-0123456789abcdef0' })
    .optional(),
  /** Absolute path inside the container. */
  mountPath: z.string().regex(/^\/\S*$/, { error: 'must be an absolute path — write it like /mnt/data' }),
  /** Directory of the file system to mount (ignored with an access point). @default '/' */
  rootDirectory: z.string().optional(),
  /** @default false */
  readOnly: z.boolean().default(false),
});

/** One IAM statement for the job's own task role. */
export const permissionSchema = strictObject({
  /** @default 'Allow' */
  effect: z.enum(['Allow', 'Deny']).default('Allow'),
  actions: z
    .array(
      z.string().regex(/^[a-z0-9-]+:[A-Za-z0-9*?]+$/, {
        error: 'is not an IAM action — write service:Action, like s3:GetObject',
      }),
    )
    .min(1),
  resources: z
    .array(z.string().min(1))
    .min(1, { error: 'needs at least one resource — use an ARN, or "*" only where the action requires it' }),
  conditions: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

/** What `berth dev` runs when no Docker engine answers: a command on the host. */
export const localSchema = strictObject({
  /** argv of the command, e.g. `['node', 'scripts/thumbnail.mjs']`. */
  command: z
    .array(z.string().min(1))
    .min(1, { error: 'is empty — give the argv, like ["node", "scripts/job.mjs"]' }),
  /** Working directory, relative to the project root. @default '.' */
  cwd: z.string().optional(),
  /** Extra environment for the local run only. */
  env: z.record(z.string(), z.string()).optional(),
});

export const CAPACITY_KINDS = ['FARGATE', 'FARGATE_SPOT', 'FARGATE_SPOT_WITH_FALLBACK'] as const;

/** Runs the job on the stack's EC2 capacity provider (`custom.berth.capacity.ec2`) instead of Fargate. */
export const ec2CapacitySchema = strictObject({
  provider: z.literal('ec2', { error: `unknown provider — use 'ec2'` }),
});

export { isEc2Capacity } from './capacity.js';

/** Files berth can bundle as a Node task's entry. */
const ENTRY_RE = /\.(ts|mts|cts|js|mjs|cjs)$/;
/** `<registry>/<path>[:tag][@sha256:<64 hex>]`, loosely (no scheme, no spaces). */
const IMAGE_REF_RE = /^(?!.*:\/\/)[A-Za-z0-9][A-Za-z0-9._:/-]*(@sha256:[0-9a-f]{64})?$/;

/**
 * How berth builds the job's image: a Node task bundled from `entry` onto `base` (no Docker needed), or a
 * Dockerfile built by the first builder found (`docker buildx`, `podman`, `buildah`). Exactly one of `entry` and
 * `dockerfile`. Paths are relative to the project root; their existence is checked by `berth validate` and the
 * compiler (src/compiler/imageChecks.ts), which know the root.
 */
export const buildSchema = strictObject({
  /** The task's entry file (`tasks/thumbnail.ts`): bundled with esbuild into one image layer. */
  entry: z
    .string()
    .min(1, { error: `is empty — give the task's file, like 'tasks/thumbnail.ts'` })
    .regex(ENTRY_RE, { error: `is not a .ts or .js file — give the task's file, like 'tasks/thumbnail.ts'` })
    .optional(),
  /** Base image of a Node task (tag or digest). Default: the official Node image berth pins by digest. */
  base: z
    .string()
    .min(1, { error: 'is empty — leave base out for the default Node image, or give an image reference' })
    .regex(IMAGE_REF_RE, {
      error: 'is not an image reference — write it like public.ecr.aws/docker/library/node:22-slim',
    })
    .optional(),
  /** A Dockerfile (`images/report/Dockerfile`), for tasks in any language. */
  dockerfile: z
    .string()
    .min(1, { error: `is empty — give the Dockerfile's path, like 'images/report/Dockerfile'` })
    .optional(),
  /** Build context of the Dockerfile. @default the Dockerfile's folder */
  context: z
    .string()
    .min(1, { error: `is empty — leave context out for the Dockerfile's folder, or give a folder` })
    .optional(),
});

export type TaskBuild = { entry: string; base?: string } | { dockerfile: string; context?: string };

/** Cross-field checks of `task.build` (exactly one kind) and of `image` against `build`. */
export function checkTaskImage(
  task: { image?: string; build?: z.output<typeof buildSchema> },
  ctx: z.RefinementCtx,
  path: (string | number)[],
): void {
  const build = task.build;
  if (task.image !== undefined && build) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'build'],
      message: `image and build are exclusive — remove image to let berth build and pin the image, or remove build to run a prebuilt image`,
    });
  }
  if (task.image === undefined && !build) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'image'],
      message: `is missing — give image (a prebuilt image such as public.ecr.aws/docker/library/node:22-alpine) or build: { entry: 'tasks/<job>.ts' } to let berth build it`,
    });
  }
  if (!build) return;
  const at = [...path, 'build'];
  if (build.entry !== undefined && build.dockerfile !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: at,
      message: `entry and dockerfile are exclusive — keep entry for a Node task berth bundles, or dockerfile for any other`,
    });
  } else if (build.entry === undefined && build.dockerfile === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: at,
      message: `needs entry or dockerfile — write build: { entry: 'tasks/<job>.ts' } or build: { dockerfile: 'images/<job>/Dockerfile' }`,
    });
  }
  if (build.base !== undefined && build.entry === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'base'],
      message: 'only applies to build.entry — a Dockerfile names its base in FROM; remove base',
    });
  }
  if (build.context !== undefined && build.dockerfile === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'context'],
      message: 'only applies to build.dockerfile — a Node task is bundled from its entry; remove context',
    });
  }
}

/** The build of a validated task as its kind. */
export function taskBuild(task: { build?: z.output<typeof buildSchema> }): TaskBuild | undefined {
  const b = task.build;
  if (!b) return undefined;
  if (b.entry !== undefined)
    return b.base === undefined ? { entry: b.entry } : { entry: b.entry, base: b.base };
  if (b.dockerfile !== undefined)
    return b.context === undefined
      ? { dockerfile: b.dockerfile }
      : { dockerfile: b.dockerfile, context: b.context };
  return undefined;
}

export const taskSchema = strictObject({
  /** Container image (ECR URI or public image). Exclusive with `build`. */
  image: z
    .string()
    .min(1, { error: 'is empty — give an image such as public.ecr.aws/docker/library/node:22-alpine' })
    .optional(),
  /** Let berth build, push and pin the image (exclusive with `image`). */
  build: buildSchema.optional(),
  /** Overrides the image's CMD. */
  command: z.array(z.string()).optional(),
  /** Overrides the image's ENTRYPOINT. */
  entryPoint: z.array(z.string()).optional(),
  /** CPU units (1024 = 1 vCPU). @default 256 */
  cpu: z.number().int().default(256),
  /** Memory in MiB, a valid Fargate pair with `cpu`. @default 512 */
  memory: z.number().int().default(512),
  /** @default 'x86_64' */
  architecture: z
    .enum(['x86_64', 'arm64'], { error: `unknown architecture — use 'x86_64' or 'arm64'` })
    .default('x86_64'),
  /** Plain environment variables. Secrets go in `secrets`. */
  environment: z
    .record(
      z.string().regex(ENV_NAME_RE, { error: 'is not a valid variable name — use letters, digits and _' }),
      z.string({ error: 'environment values are strings — quote numbers and booleans' }),
    )
    .default({}),
  /** Variables filled from Secrets Manager or SSM Parameter Store, by ARN. Never plain values. */
  secrets: z
    .record(
      z.string().regex(ENV_NAME_RE, { error: 'is not a valid variable name — use letters, digits and _' }),
      z.string().regex(SECRET_ARN_RE, {
        error:
          'is not a Secrets Manager or SSM parameter ARN — put the value in Secrets Manager or SSM and give its ARN (arn:aws:secretsmanager:… or arn:aws:ssm:…:parameter/…); plain values belong in environment',
      }),
    )
    .default({}),
  /**
   * The customer managed KMS key the `secrets` are encrypted with, when not the AWS managed key: the execution
   * role may then `kms:Decrypt` with this key, only through Secrets Manager or SSM.
   */
  secretsKmsKeyArn: z
    .string()
    .regex(KMS_KEY_ARN_RE, {
      error:
        'is not a KMS key ARN — give the key ARN (arn:aws:kms:<region>:<account>:key/<key-id>); aliases cannot be granted kms:Decrypt',
    })
    .optional(),
  /** Task ephemeral storage in GiB (21–200). Fargate gives 20 GiB when unset. */
  ephemeralStorageGiB: z
    .number()
    .int()
    .min(21, { error: 'is below 21 GiB — Fargate gives 20 GiB by default; omit the field or use 21 to 200' })
    .max(200, { error: 'is above 200 GiB — Fargate allows at most 200 GiB' })
    .optional(),
  /** EFS volumes. */
  volumes: z.array(efsVolumeSchema).default([]),
  /**
   * Where the task runs: on-demand `FARGATE`, `FARGATE_SPOT`, Spot that falls back to on-demand
   * when Spot has no capacity, or `{ provider: 'ec2' }`: the EC2 capacity provider declared in
   * `custom.berth.capacity.ec2`.
   * @default 'FARGATE'
   */
  capacity: z
    .union([
      z.enum(CAPACITY_KINDS, {
        error: `unknown capacity — use 'FARGATE', 'FARGATE_SPOT' or 'FARGATE_SPOT_WITH_FALLBACK'`,
      }),
      ec2CapacitySchema,
    ])
    .default('FARGATE'),
  /** IAM statements for the job's own task role (created only when present). */
  permissions: z.array(permissionSchema).default([]),
  /** CloudWatch Logs retention in days. Defaults to `custom.berth.logRetentionDays` (30). */
  logRetentionDays: z
    .number()
    .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
      error: `is not a CloudWatch Logs retention — use one of ${LOG_RETENTION_DAYS.join(', ')}`,
    })
    .optional(),
  /** The command `berth dev` runs without Docker. */
  local: localSchema.optional(),
});

/** Adds the cross-field Fargate size check; used by the job schema. */
export function checkTaskSize(
  task: { cpu: number; memory: number },
  ctx: z.RefinementCtx,
  path: (string | number)[],
): void {
  const problem = checkFargateSize(task.cpu, task.memory);
  if (problem)
    ctx.addIssue({
      code: 'custom',
      message: problem,
      path: [...path, problem.startsWith(`${task.cpu} is not`) ? 'cpu' : 'memory'],
    });
}

export type TaskInput = z.input<typeof taskSchema>;
export type Task = z.output<typeof taskSchema>;
export type Capacity = Task['capacity'];
