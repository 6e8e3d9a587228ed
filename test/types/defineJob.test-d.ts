/**
 * Type-level tests of the job API, checked by `tsc --noEmit -p tsconfig.json` (tsconfig includes test/).
 * Each `@ts-expect-error` fails the type check if the line below it compiles: a wrong definition must not.
 */
import { defineJob, type JobDefinition, type JobInput } from 'berth';

const task = { image: 'public.ecr.aws/docker/library/node:22-alpine' };

// ---- wrong definitions do not compile ----

defineJob({
  name: 'unknown-key',
  task,
  // @ts-expect-error unknown top-level key
  schedule: 'cron(0 2 * * ? *)',
});

defineJob({
  name: 'unknown-task-key',
  // @ts-expect-error unknown key inside task
  task: { ...task, memorySize: 1024 },
});

defineJob({
  name: 'image-and-build',
  // @ts-expect-error image and build are exclusive
  task: { image: 'node:22', build: { entry: 'tasks/x.ts' } },
});

defineJob({
  name: 'neither-image-nor-build',
  // @ts-expect-error a task needs image or build
  task: { cpu: 256 },
});

defineJob({
  name: 'entry-and-dockerfile',
  // @ts-expect-error a build is an entry or a Dockerfile, not both
  task: { build: { entry: 'tasks/x.ts', dockerfile: 'images/x/Dockerfile' } },
});

defineJob({ name: 'node-build', task: { build: { entry: 'tasks/x.ts', base: 'node:22-slim' } } });
defineJob({
  name: 'docker-build',
  task: { build: { dockerfile: 'images/x/Dockerfile', context: 'images' } },
});

defineJob({
  name: 'cpu-as-string',
  // @ts-expect-error cpu is a number of CPU units, not a string
  task: { ...task, cpu: '1 vCPU' },
});

defineJob({
  name: 'cron-without-wrapper',
  // @ts-expect-error a schedule expression must be cron(...), rate(...) or at(...)
  trigger: { schedule: { expression: '0 2 * * ? *' } },
  task,
});

defineJob({
  name: 'wrong-capacity',
  // @ts-expect-error capacity is FARGATE, FARGATE_SPOT or FARGATE_SPOT_WITH_FALLBACK
  task: { ...task, capacity: 'SPOT' },
});

defineJob({
  name: 'wrong-overlap',
  trigger: { schedule: { expression: 'rate(5 minutes)' } },
  task,
  // @ts-expect-error overlap is allow, skip or queue
  overlap: 'never',
});

// @ts-expect-error task is required
defineJob({ name: 'missing-task' });

// @ts-expect-error name is required
defineJob({ task });

defineJob({
  name: 'bad-duration',
  task,
  // @ts-expect-error durations are a number and a unit: '30s', '15m', '2h'
  timeout: '1 hour',
});

defineJob({
  name: 'bad-action',
  task,
  // @ts-expect-error a rule's action is retry or fail
  retry: { rules: [{ onExitCode: 1, action: 'ignore' }] },
});

defineJob({
  name: 'bad-outcome',
  task,
  // @ts-expect-error onOutcome takes an outcome class
  retry: { rules: [{ onOutcome: 'crashed', action: 'fail' }] },
});

defineJob({
  name: 'env-number',
  // @ts-expect-error environment values are strings
  task: { ...task, environment: { PORT: 8080 } },
});

defineJob({
  name: 'bad-architecture',
  // @ts-expect-error architecture is x86_64 or arm64
  task: { ...task, architecture: 'amd64' },
});

defineJob({
  name: 'batch-as-string',
  // @ts-expect-error batchSize is a number
  trigger: { queue: { batchSize: '10' } },
  task,
});

// ---- correct definitions compile ----

export const minimal: JobDefinition = defineJob({ name: 'minimal', task });

export const everything = defineJob({
  name: 'everything',
  description: 'Uses every field of the job API',
  trigger: {
    s3: [{ bucket: 'uploads', prefix: 'images/', suffix: '.jpg', events: ['Object Created'] }],
    schedule: [
      { expression: 'cron(0 2 * * ? *)', timezone: 'Asia/Seoul', flexibleWindow: '15m', payload: { a: [1] } },
      { expression: 'rate(5 minutes)' },
      { expression: 'at(2026-12-01T09:00:00)', startDate: '2026-11-01T00:00:00' },
    ],
    queue: { batchSize: 10, fifo: false, visibilityTimeout: '6m', maxReceiveCount: 5, retention: '4d' },
  },
  task: {
    image: 'public.ecr.aws/docker/library/node:22-alpine',
    command: ['node', 'tasks/job.mjs'],
    entryPoint: ['/usr/bin/env'],
    cpu: 1024,
    memory: 2048,
    architecture: 'arm64',
    environment: { MODE: 'batch' },
    secrets: { DB: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf' },
    ephemeralStorageGiB: 50,
    volumes: [
      { fileSystemId: 'fs-0123456789abcdef0', accessPointId: 'fsap-0123456789abcdef0', mountPath: '/mnt' },
    ],
    capacity: 'FARGATE_SPOT_WITH_FALLBACK',
    permissions: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::uploads/*'] }],
    logRetentionDays: 30,
    local: { command: ['node', 'tasks/job.mjs'], cwd: '.', env: { DEBUG: '1' } },
  },
  retry: {
    maxAttempts: 5,
    backoff: { minDelay: '1s', maxDelay: '1m', factor: 3, jitter: 0.5 },
    rules: [
      { onExitCode: [2, 3], action: 'fail' },
      { onExitCode: { from: 10, to: 19 }, action: 'retry' },
      { onOutcome: ['oom', 'timed_out'], action: 'retry' },
      { onStopCode: 'TaskFailedToStart', onReason: 'CannotPullContainerError*', action: 'retry' },
    ],
    budget: '2h',
  },
  timeout: '30m',
  maxConcurrency: 5,
  overlap: 'skip',
  notify: { on: ['failed'], sns: ['arn:aws:sns:us-east-1:123456789012:ops'], email: ['ops@example.com'] },
});

// The input type is exported for helpers that build definitions.
export const input: JobInput = { name: 'typed', task, trigger: { queue: {} } };
