/**
 * `custom.berth` in serverless.yml (and the options of `berth synth`). The zod schema is the source of
 * truth; the plugin registers the equivalent JSON Schema with Serverless (see src/plugin/configSchema.cjs).
 */
import { z } from 'zod';
import { LOG_RETENTION_DAYS } from '../core/model/task.js';
import { capacityConfigSchema } from './ec2Capacity.js';

const CLUSTER_ARN_RE = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;

/** Subnet ids (1–16, one VPC), as ECS's awsvpc configuration and App Runner's endpoint accept them. */
const subnetIdsSchema = z
  .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/))
  .min(1)
  .max(16);
/** Security group ids (1–5). */
const securityGroupIdsSchema = z
  .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/))
  .min(1)
  .max(5);

export const networkSchema = z.union([
  z.literal('create'),
  z.strictObject({
    /** Subnets tasks run in (1–16, one VPC; spread over several AZs for capacity). */
    subnets: subnetIdsSchema,
    /** Security groups (up to 5). */
    securityGroups: securityGroupIdsSchema,
    /** Give tasks a public IP (needed in public subnets without NAT to pull images). @default false */
    assignPublicIp: z.boolean().default(false),
  }),
]);

export const IMAGE_SCAN_SEVERITIES = ['CRITICAL', 'HIGH'] as const;
const KMS_KEY_RE = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+|alias\/.+|[0-9a-f-]{36})$/;

/** `custom.berth.images`: the ECR repositories berth builds the `task.build` jobs into (docs/images.md). */
export const imagesConfigSchema = z
  .strictObject({
    /** One repository for every job of the stage, or one per job. @default 'service' */
    repository: z
      .enum(['service', 'job'], { error: `unknown repository layout — use 'service' or 'job'` })
      .default('service'),
    /** ECR basic scanning on every push (`ImageScanningConfiguration.ScanOnPush`). @default true */
    scanOnPush: z.boolean().default(true),
    /** `AES256` (S3-managed keys) or `{ kmsKey }`: a KMS key ARN, id or alias. @default 'AES256' */
    encryption: z
      .union([
        z.literal('AES256'),
        z.strictObject({
          kmsKey: z.string().regex(KMS_KEY_RE, {
            error: 'is not a KMS key — give a key ARN, a key id or alias/<name>',
          }),
        }),
      ])
      .default('AES256'),
    /** Images kept per job (older ones expire, lifecycle policy). @default 10 */
    keepLast: z.number().int().min(1).max(1000).default(10),
    /** Days an untagged image stays (lifecycle policy). @default 7 */
    untaggedDays: z.number().int().min(1).max(3650).default(7),
    /** Refuse to deploy an image whose scan finds this severity or worse. Needs scanOnPush. */
    failOn: z
      .enum(IMAGE_SCAN_SEVERITIES, { error: `unknown severity — use 'CRITICAL' or 'HIGH'` })
      .optional(),
    /** Longest wait for a push's scan, in seconds. @default 600 */
    scanTimeoutSeconds: z.number().int().min(10).max(3600).default(600),
    /**
     * Another registry instead of ECR: `<host>[:port]/<path>` (berth creates no repository and runs no scan
     * gate there; the tasks must be able to pull from it).
     */
    registry: z
      .string()
      .regex(/^[A-Za-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/, {
        error: 'is not a registry path — write it like ghcr.io/acme/jobs or registry.example.com:5000/jobs',
      })
      .optional(),
  })
  .superRefine((images, ctx) => {
    if (images.failOn && !images.scanOnPush) {
      ctx.addIssue({
        code: 'custom',
        path: ['failOn'],
        message:
          'needs scanOnPush: true — the gate reads the scan of each push; turn scanOnPush on or remove failOn',
      });
    }
    if (images.failOn && images.registry) {
      ctx.addIssue({
        code: 'custom',
        path: ['failOn'],
        message: `only works with ECR's scan on push — remove failOn or registry`,
      });
    }
  });

export type ImagesConfig = z.output<typeof imagesConfigSchema>;

/** A digest-pinned ECR image (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:<64 hex>`). */
const PINNED_ECR_IMAGE_RE =
  /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[^@\s]+@sha256:[0-9a-f]{64}$/;

/** `custom.berth.console.appRunner` as an object: the runs console deployed on App Runner (docs/dashboard.md). */
export const appRunnerConfigSchema = z.strictObject({
  /**
   * `private`: reachable only from inside a VPC (an interface endpoint for App Runner and a VPC ingress
   * connection); `public`: an HTTPS URL on the internet. Both require signing in with the console token.
   * @default 'private'
   */
  access: z
    .enum(['private', 'public'], { error: `unknown access — use 'private' or 'public'` })
    .default('private'),
  /**
   * The VPC the private console is reached from. Default with `network: create`: berth's VPC and subnets.
   * Required with your own network (berth cannot tell the VPC of your subnets).
   */
  vpc: z
    .strictObject({
      id: z
        .string()
        .regex(/^vpc-[0-9a-f]{8,17}$/, { error: 'is not a VPC id — write it like vpc-0123456789abcdef0' }),
      /** Subnets of the App Runner interface endpoint (two or more in different AZs, AWS advises). */
      subnets: subnetIdsSchema,
      /** Security groups of the endpoint: they decide who in the VPC may connect (HTTPS, 443). */
      securityGroups: securityGroupIdsSchema,
    })
    .optional(),
  /**
   * The console image, pinned by digest, when you build and push it yourself (docs/dashboard.md). Absent:
   * berth builds it and fills the stack parameter `BerthConsoleImage` at deploy.
   */
  image: z
    .string()
    .regex(PINNED_ECR_IMAGE_RE, {
      error:
        'is not a digest-pinned ECR image — write <account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:<64 hex>',
    })
    .optional(),
  /** Base image of the console image berth builds (a mirror of berth's Node base, say). @default berth's Node base */
  base: z.string().min(1).optional(),
  /** App Runner instance CPU. @default '0.25 vCPU' */
  cpu: z.enum(['0.25 vCPU', '0.5 vCPU', '1 vCPU', '2 vCPU', '4 vCPU']).default('0.25 vCPU'),
  /** App Runner instance memory (App Runner accepts only some CPU/memory pairs). @default '0.5 GB' */
  memory: z
    .enum(['0.5 GB', '1 GB', '2 GB', '3 GB', '4 GB', '6 GB', '8 GB', '10 GB', '12 GB'])
    .default('0.5 GB'),
});

export type AppRunnerConfig = z.output<typeof appRunnerConfigSchema>;

export const consoleConfigSchema = z.strictObject({
  /**
   * Deploy the runs console to App Runner: `true` for the defaults, or its options (`false` or absent: not).
   * Parsed to the options with defaults applied, or undefined.
   */
  appRunner: z.preprocess(
    (value) => (value === true ? {} : value === false ? undefined : value),
    appRunnerConfigSchema.optional(),
  ),
});

export const berthConfigSchema = z.strictObject({
  /** Folder of job files, relative to the service directory. @default 'jobs' */
  jobsDir: z.string().min(1).default('jobs'),
  /** `create` (berth's own cluster with FARGATE and FARGATE_SPOT) or an existing cluster ARN. @default 'create' */
  cluster: z
    .union([
      z.literal('create'),
      z.string().regex(CLUSTER_ARN_RE, {
        error: 'is not an ECS cluster ARN — use create, or arn:aws:ecs:<region>:<account>:cluster/<name>',
      }),
    ])
    .default('create'),
  /** Where tasks run: existing subnets and security groups, or `create` (two public subnets, no NAT). */
  network: networkSchema.default('create'),
  runsTable: z
    .strictObject({
      /** Days a finished run stays in the table (DynamoDB TTL). @default 90 */
      ttlDays: z.number().int().min(1).max(3650).default(90),
      /** Point-in-time recovery for the runs table. @default false */
      pointInTimeRecovery: z.boolean().default(false),
    })
    .default({ ttlDays: 90, pointInTimeRecovery: false }),
  /** Retention of the shared jobs log group and the berth Lambdas' logs. @default 30 */
  logRetentionDays: z
    .number()
    .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
      error: `is not a CloudWatch Logs retention — use one of ${LOG_RETENTION_DAYS.join(', ')}`,
    })
    .default(30),
  /** Launcher Lambdas polling the shared launch queue at once (2–1000); bounds the RunTask rate. @default 10 */
  launcherConcurrency: z.number().int().min(2).max(1000).default(10),
  /** Days an oversized trigger payload stays in the payload bucket. @default 14 */
  payloadRetentionDays: z.number().int().min(1).max(3650).default(14),
  /** Extra capacity providers: `ec2` adds an Auto Scaling group for jobs on `capacity: { provider: 'ec2' }`. */
  capacity: capacityConfigSchema.optional(),
  /**
   * Ship a source map in each berth Lambda zip and start the Lambdas with `--enable-source-maps`, so stack
   * traces point into berth's sources. Off by default: the map doubles the zip and Node parses it on every
   * cold start. @default false
   */
  sourceMaps: z.boolean().default(false),
  /** ECR repositories, scanning and lifecycle of the images berth builds for `task.build` jobs. */
  images: imagesConfigSchema.default({
    repository: 'service',
    scanOnPush: true,
    encryption: 'AES256',
    keepLast: 10,
    untaggedDays: 7,
    scanTimeoutSeconds: 600,
  }),
  /** The runs console of deployed stages (`berth console --stage`), and its App Runner deployment. */
  console: consoleConfigSchema.default({}),
});

export type BerthConfigInput = z.input<typeof berthConfigSchema>;
export type BerthConfig = z.output<typeof berthConfigSchema>;
export type NetworkConfig = BerthConfig['network'];

/** Launcher timeout; queues feeding it keep messages hidden at least 6× this long (AWS's SQS advice). */
export const LAUNCHER_TIMEOUT_SECONDS = 30;
export const INTERCEPTOR_TIMEOUT_SECONDS = 60;
export const SWEEPER_TIMEOUT_SECONDS = 60;
export const MIN_QUEUE_VISIBILITY_SECONDS = 6 * LAUNCHER_TIMEOUT_SECONDS;
