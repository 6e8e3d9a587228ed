import { describe, expect, it } from 'vitest';
import { formatJobIssue } from '../../../src/core/errors.js';
import { findDuplicateNames, validateJob } from '../../../src/core/model/validate.js';

const FILE = 'jobs/bad.ts';
const task = { image: 'public.ecr.aws/docker/library/node:22-alpine' };
const base = { name: 'resize-images', task };
const schedule = (s: Record<string, unknown>) => ({ ...base, trigger: { schedule: s } });

/** [what, definition, the one line berth must print]. Every line is `file: path: problem — fix`. */
const CASES: [string, unknown, string][] = [
  [
    'cron with four fields',
    schedule({ expression: 'cron(0 2 * *)' }),
    `trigger.schedule.expression: "cron(0 2 * *)": has 4 fields, but AWS cron has six: minutes hours day-of-month month day-of-week year — e.g. cron(0 2 * * ? *) runs at 02:00 every day`,
  ],
  [
    "cron with '?' in both day fields",
    schedule({ expression: 'cron(0 2 ? * ? *)' }),
    `trigger.schedule.expression: "cron(0 2 ? * ? *)": day-of-month and day-of-week are both '?', but exactly one of day-of-month and day-of-week must be '?' — set the other one, e.g. cron(0 2 * * ? *) for every day or cron(0 2 ? * MON-FRI *) for weekdays`,
  ],
  [
    "cron with '?' in neither day field",
    schedule({ expression: 'cron(0 2 * * MON *)' }),
    `trigger.schedule.expression: "cron(0 2 * * MON *)": day-of-month "*" and day-of-week "MON" are both set, but exactly one of day-of-month and day-of-week must be '?' — write cron(0 2 ? * MON *)`,
  ],
  [
    'cron not wrapped in cron()',
    schedule({ expression: '0 2 * * ? *' }),
    `trigger.schedule.expression: "0 2 * * ? *": is not wrapped in cron(...) — write cron(0 2 * * ? *)`,
  ],
  [
    'rate(1 minutes)',
    schedule({ expression: 'rate(1 minutes)' }),
    `trigger.schedule.expression: "rate(1 minutes)": a value of 1 takes the singular unit — write rate(1 minute)`,
  ],
  [
    'rate(0 minutes)',
    schedule({ expression: 'rate(0 minutes)' }),
    `trigger.schedule.expression: "rate(0 minutes)": the value must be a positive whole number, not 0 — write e.g. rate(1 minute)`,
  ],
  [
    'at() with month 13',
    schedule({ expression: 'at(2026-13-01T00:00:00)' }),
    `trigger.schedule.expression: "at(2026-13-01T00:00:00)": month 13 is out of range 01-12 — write e.g. at(2026-12-01T09:00:00)`,
  ],
  [
    'unknown time zone',
    schedule({ expression: 'cron(0 2 * * ? *)', timezone: 'Mars/Olympus' }),
    `trigger.schedule.timezone: "Mars/Olympus" is not an IANA time zone — use an IANA name such as 'UTC', 'Europe/Berlin' or 'Asia/Seoul'`,
  ],
  [
    'flexible window under a minute',
    schedule({ expression: 'rate(5 minutes)', flexibleWindow: '10s' }),
    `trigger.schedule.flexibleWindow: 10s is too short — use at least '1m'`,
  ],
  [
    'startDate that is not ISO-8601',
    schedule({ expression: 'rate(5 minutes)', startDate: 'yesterday' }),
    `trigger.schedule.startDate: is not an ISO-8601 date-time — write it like 2026-12-01T09:00:00`,
  ],
  [
    'CPU/memory pair Fargate rejects',
    { ...base, task: { ...task, cpu: 256, memory: 4096 } },
    `task.memory: Fargate does not accept memory 4096 MiB with cpu 256 — with cpu 256 use 512, 1024, 2048 MiB`,
  ],
  [
    'CPU value Fargate does not have',
    { ...base, task: { ...task, cpu: 300, memory: 512 } },
    `task.cpu: 300 is not a Fargate CPU size — use one of 256, 512, 1024, 2048, 4096, 8192, 16384 (CPU units, 1024 = 1 vCPU)`,
  ],
  [
    'memory off the 1024 step',
    { ...base, task: { ...task, cpu: 1024, memory: 2500 } },
    `task.memory: Fargate does not accept memory 2500 MiB with cpu 1024 — with cpu 1024 use 2048 to 8192 in steps of 1024 MiB`,
  ],
  [
    'cpu given as a string',
    { ...base, task: { ...task, cpu: '1024' } },
    `task.cpu: must be a number, not the text "1024" — write 1024 without quotes`,
  ],
  [
    'unknown top-level key',
    { ...base, tsk: {} },
    `(job): unknown key 'tsk' — allowed keys are: name, description, trigger, task, retry, timeout, maxConcurrency, overlap, notify`,
  ],
  [
    'unknown task keys',
    { ...base, task: { ...task, cpus: 1, mem: 2 } },
    `task: unknown keys 'cpus', 'mem' — allowed keys are: image, build, command, entryPoint, cpu, memory, architecture, environment, secrets, secretsKmsKeyArn, ephemeralStorageGiB, volumes, capacity, permissions, logRetentionDays, local`,
  ],
  [
    'unknown trigger kind',
    { ...base, trigger: { sqs: {} } },
    `trigger: unknown key 'sqs' — allowed keys are: s3, schedule, queue`,
  ],
  [
    'secret as a plain string',
    { ...base, task: { ...task, secrets: { DB_PASSWORD: 'hunter2' } } },
    `task.secrets.DB_PASSWORD: is not a Secrets Manager or SSM parameter ARN — put the value in Secrets Manager or SSM and give its ARN (arn:aws:secretsmanager:… or arn:aws:ssm:…:parameter/…); plain values belong in environment`,
  ],
  [
    'environment value that is a number',
    { ...base, task: { ...task, environment: { PORT: 8080 } } },
    `task.environment.PORT: environment values are strings — quote numbers and booleans`,
  ],
  [
    'environment variable name with a dash',
    { ...base, task: { ...task, environment: { 'BAD-NAME': 'x' } } },
    `task.environment.BAD-NAME: is not a valid variable name — use letters, digits and _`,
  ],
  ['missing name', { task }, `name: is missing — give the job a stable name such as 'resize-images'`],
  [
    'name with capitals and underscore',
    { ...base, name: 'Resize_Images' },
    `name: may only hold lowercase letters, digits and '-', starting with a letter — write it like 'resize-images'`,
  ],
  [
    'name ending in a dash',
    { ...base, name: 'resize-' },
    `name: must not end with '-' or hold '--' — write it like 'resize-images'`,
  ],
  [
    'name too long',
    { ...base, name: 'a'.repeat(33) },
    `name: is longer than 32 characters — shorten it so every derived AWS name fits`,
  ],
  [
    'description too long',
    { ...base, description: 'x'.repeat(300) },
    `description: is 300 characters long — use at most 256 characters`,
  ],
  [
    'missing task',
    { name: 'resize-images' },
    `task: is missing — write { image, build, command, entryPoint, cpu, memory, architecture, environment, secrets, secretsKmsKeyArn, ephemeralStorageGiB, volumes, capacity, permissions, logRetentionDays, local } (see the job reference in docs/jobs.md)`,
  ],
  [
    'image and build together',
    { ...base, task: { ...task, build: { entry: 'tasks/resize.ts' } } },
    `task.build: image and build are exclusive — remove image to let berth build and pin the image, or remove build to run a prebuilt image`,
  ],
  [
    'neither image nor build',
    { ...base, task: { cpu: 256 } },
    `task.image: is missing — give image (a prebuilt image such as public.ecr.aws/docker/library/node:22-alpine) or build: { entry: 'tasks/<job>.ts' } to let berth build it`,
  ],
  [
    'build with entry and dockerfile',
    { ...base, task: { build: { entry: 'tasks/resize.ts', dockerfile: 'images/resize/Dockerfile' } } },
    `task.build: entry and dockerfile are exclusive — keep entry for a Node task berth bundles, or dockerfile for any other`,
  ],
  [
    'build with neither entry nor dockerfile',
    { ...base, task: { build: {} } },
    `task.build: needs entry or dockerfile — write build: { entry: 'tasks/<job>.ts' } or build: { dockerfile: 'images/<job>/Dockerfile' }`,
  ],
  [
    'build entry that is not a script',
    { ...base, task: { build: { entry: 'tasks/resize.py' } } },
    `task.build.entry: is not a .ts or .js file — give the task's file, like 'tasks/thumbnail.ts'`,
  ],
  [
    'build base on a Dockerfile build',
    { ...base, task: { build: { dockerfile: 'images/resize/Dockerfile', base: 'node:22' } } },
    `task.build.base: only applies to build.entry — a Dockerfile names its base in FROM; remove base`,
  ],
  [
    'build context on a Node build',
    { ...base, task: { build: { entry: 'tasks/resize.ts', context: 'tasks' } } },
    `task.build.context: only applies to build.dockerfile — a Node task is bundled from its entry; remove context`,
  ],
  [
    'build base that is a URL',
    { ...base, task: { build: { entry: 'tasks/resize.ts', base: 'https://example.com/node' } } },
    `task.build.base: is not an image reference — write it like public.ecr.aws/docker/library/node:22-slim`,
  ],
  [
    'unknown build key',
    { ...base, task: { build: { entry: 'tasks/resize.ts', file: 'x' } } },
    `task.build: unknown key 'file' — allowed keys are: entry, base, dockerfile, context`,
  ],
  [
    'empty image',
    { ...base, task: { image: '' } },
    `task.image: is empty — give an image such as public.ecr.aws/docker/library/node:22-alpine`,
  ],
  [
    'duration in words',
    { ...base, timeout: '10 minutes' },
    `timeout: "10 minutes" is not a duration — write a number and a unit: '500ms', '30s', '15m', '2h' or '1d'`,
  ],
  ['timeout below a second', { ...base, timeout: '10ms' }, `timeout: 10ms is too short — use at least '1s'`],
  ['timeout above 14 days', { ...base, timeout: '15d' }, `timeout: 15d is too long — use at most '14d'`],
  [
    'bucket with capitals and underscore',
    { ...base, trigger: { s3: { bucket: 'Uploads_Bucket' } } },
    `trigger.s3.bucket: is not a valid S3 bucket name — use 3-63 lowercase letters, digits, dots and hyphens, not an ARN`,
  ],
  [
    'bucket given as an ARN',
    { ...base, trigger: { s3: { bucket: 'arn:aws:s3:::uploads' } } },
    `trigger.s3.bucket: is not a valid S3 bucket name — use 3-63 lowercase letters, digits, dots and hyphens, not an ARN`,
  ],
  [
    'S3 event kind that is not supported',
    { ...base, trigger: { s3: { bucket: 'uploads', events: ['Object Deleted'] } } },
    `trigger.s3.events[0]: unknown S3 event kind — use 'Object Created'`,
  ],
  [
    'queue batchSize 11',
    { ...base, trigger: { queue: { batchSize: 11 } } },
    `trigger.queue.batchSize: is above 10, the most SQS hands to one invocation here — use 1 to 10`,
  ],
  [
    'visibility timeout above 12h',
    { ...base, trigger: { queue: { visibilityTimeout: '13h' } } },
    `trigger.queue.visibilityTimeout: 13h is too long — use at most '12h'`,
  ],
  [
    'existing queue that is an SNS ARN',
    { ...base, trigger: { queue: { existing: 'arn:aws:sns:us-east-1:123456789012:orders' } } },
    `trigger.queue.existing: is neither an SQS queue ARN nor a queue name — use arn:aws:sqs:<region>:<account>:<name> or the bare name`,
  ],
  [
    'fifo with a standard queue name',
    { ...base, trigger: { queue: { existing: 'orders', fifo: true } } },
    `trigger.queue.existing: fifo is true but the queue name does not end in .fifo — use the FIFO queue's name or set fifo: false`,
  ],
  [
    'maxAttempts 0',
    { ...base, retry: { maxAttempts: 0 } },
    `retry.maxAttempts: is below 1, but it counts the first attempt — use 1 for no retries, or more to retry`,
  ],
  [
    'unknown outcome class in a rule',
    { ...base, retry: { rules: [{ onOutcome: 'crashed', action: 'retry' }] } },
    `retry.rules[0].onOutcome: unknown outcome class — use one of succeeded, app_error, oom, start_failure, spot_interrupted, timed_out, cancelled, lost`,
  ],
  [
    'unknown action in a rule',
    { ...base, retry: { rules: [{ onExitCode: 1, action: 'maybe' }] } },
    `retry.rules[0].action: unknown action — use 'retry' or 'fail'`,
  ],
  [
    'exit code given as a word',
    { ...base, retry: { rules: [{ onExitCode: 'one', action: 'fail' }] } },
    `retry.rules[0].onExitCode: must be a number, not the text "one" — write a number, like 3`,
  ],
  [
    'jitter above 1',
    { ...base, retry: { backoff: { jitter: 2 } } },
    `retry.backoff.jitter: is 2, above the maximum of 1 — use at most 1`,
  ],
  [
    'backoff factor below 1',
    { ...base, retry: { backoff: { factor: 0.5 } } },
    `retry.backoff.factor: is 0.5, below the minimum of 1 — use at least 1`,
  ],
  [
    'retry budget that is not a duration',
    { ...base, retry: { budget: 'forever' } },
    `retry.budget: "forever" is not a duration — write a number and a unit: '500ms', '30s', '15m', '2h' or '1d'`,
  ],
  [
    'overlap on a job without a schedule',
    { ...base, overlap: 'skip' },
    `overlap: 'skip' only applies to schedule triggers and this job has none — remove overlap or use maxConcurrency`,
  ],
  [
    'unknown overlap policy',
    { ...schedule({ expression: 'rate(5 minutes)' }), overlap: 'never' },
    `overlap: unknown overlap policy — use 'allow', 'skip' or 'queue'`,
  ],
  [
    'maxConcurrency 0',
    { ...base, maxConcurrency: 0 },
    `maxConcurrency: is below 1 — use 1 to 1000, or leave it out for no limit`,
  ],
  [
    'EFS id that is not fs-…',
    { ...base, task: { ...task, volumes: [{ fileSystemId: 'efs-123', mountPath: '/mnt/data' }] } },
    `task.volumes[0].fileSystemId: is not an EFS file system id — use fs-0123456789abcdef0`,
  ],
  [
    'EFS mount path that is relative',
    {
      ...base,
      task: { ...task, volumes: [{ fileSystemId: 'fs-0123456789abcdef0', mountPath: 'mnt/data' }] },
    },
    `task.volumes[0].mountPath: must be an absolute path — write it like /mnt/data`,
  ],
  [
    'ephemeral storage 10 GiB',
    { ...base, task: { ...task, ephemeralStorageGiB: 10 } },
    `task.ephemeralStorageGiB: is below 21 GiB — Fargate gives 20 GiB by default; omit the field or use 21 to 200`,
  ],
  [
    'ephemeral storage 500 GiB',
    { ...base, task: { ...task, ephemeralStorageGiB: 500 } },
    `task.ephemeralStorageGiB: is above 200 GiB — Fargate allows at most 200 GiB`,
  ],
  [
    'log retention CloudWatch does not offer',
    { ...base, task: { ...task, logRetentionDays: 10 } },
    `task.logRetentionDays: is not a CloudWatch Logs retention — use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653`,
  ],
  [
    'unknown capacity',
    { ...base, task: { ...task, capacity: 'SPOT' } },
    `task.capacity: unknown capacity — use 'FARGATE', 'FARGATE_SPOT' or 'FARGATE_SPOT_WITH_FALLBACK'`,
  ],
  [
    'unknown architecture',
    { ...base, task: { ...task, architecture: 'arm' } },
    `task.architecture: unknown architecture — use 'x86_64' or 'arm64'`,
  ],
  [
    'IAM action without a service',
    { ...base, task: { ...task, permissions: [{ actions: ['GetObject'], resources: ['*'] }] } },
    `task.permissions[0].actions[0]: is not an IAM action — write service:Action, like s3:GetObject`,
  ],
  [
    'IAM statement without resources',
    { ...base, task: { ...task, permissions: [{ actions: ['s3:GetObject'], resources: [] }] } },
    `task.permissions[0].resources: needs at least one resource — use an ARN, or "*" only where the action requires it`,
  ],
  [
    'local block with an empty command',
    { ...base, task: { ...task, local: { command: [] } } },
    `task.local.command: is empty — give the argv, like ["node", "scripts/job.mjs"]`,
  ],
  [
    'SNS topic that is an SQS ARN',
    { ...base, notify: { sns: ['arn:aws:sqs:us-east-1:123456789012:orders'] } },
    `notify.sns[0]: is not an SNS topic ARN — use arn:aws:sns:<region>:<account>:<topic>`,
  ],
  [
    'notification email without @',
    { ...base, notify: { email: ['ops'] } },
    `notify.email[0]: is not an email address — write it like ops@example.com`,
  ],
  [
    'notify on an unknown state',
    { ...base, notify: { on: ['exploded'] } },
    `notify.on[0]: unknown state — use succeeded, failed, timed_out, cancelled, retrying`,
  ],
  [
    'default export that is not an object',
    'resize-images',
    `(job): must be an object — write { name, description, trigger, task, retry, timeout, maxConcurrency, overlap, notify } (see the job reference in docs/jobs.md)`,
  ],
];

describe('validateJob: bad definitions', () => {
  it.each(CASES)('%s', (_what, input, line) => {
    const result = validateJob(input, FILE);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map(formatJobIssue)).toEqual([`${FILE}: ${line}`]);
  });

  it('every message has the shape file: path: problem — fix, with a real fix', () => {
    for (const [, input, line] of CASES) {
      const result = validateJob(input, FILE);
      if (result.ok) throw new Error(`accepted: ${line}`);
      for (const issue of result.issues) {
        expect(issue.fix).not.toBe('');
        expect(issue.fix).not.toBe('see the job reference in docs/jobs.md');
        expect(issue.problem).not.toMatch(/^(Invalid|Too (big|small))/);
      }
    }
  });

  it('reports every problem of one definition, not only the first', () => {
    const result = validateJob(
      {
        name: 'Bad',
        task: { image: 'x', cpu: 256, memory: 4096 },
        timeout: 'soon',
        retry: { maxAttempts: 0 },
      },
      FILE,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path).sort()).toEqual([
      'name',
      'retry.maxAttempts',
      'task.memory',
      'timeout',
    ]);
  });

  it('reports a rejected Fargate pair once, on the memory field', () => {
    const result = validateJob({ ...base, task: { ...task, cpu: 256, memory: 4096 } }, FILE);
    expect(result.ok ? [] : result.issues.map((i) => i.path)).toEqual(['task.memory']);
  });
});

describe('validateJob: good definitions', () => {
  it('applies the documented defaults', () => {
    const result = validateJob(base, 'jobs/resize.ts');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { job } = result;
    expect(job).toMatchObject({
      name: 'resize-images',
      file: 'jobs/resize.ts',
      triggers: [],
      timeout: '1h',
      overlap: 'allow',
      retry: {
        maxAttempts: 3,
        backoff: { minDelay: '10s', maxDelay: '5m', factor: 2, jitter: 0.2 },
        rules: [],
      },
      task: {
        cpu: 256,
        memory: 512,
        architecture: 'x86_64',
        capacity: 'FARGATE',
        environment: {},
        secrets: {},
        volumes: [],
        permissions: [],
      },
    });
    expect(job.maxConcurrency).toBeUndefined();
    expect(job.task.ephemeralStorageGiB).toBeUndefined();
  });

  it('flattens triggers into a list with stable ids', () => {
    const result = validateJob(
      {
        ...base,
        trigger: {
          s3: [{ bucket: 'uploads', prefix: 'a/' }, { bucket: 'inbox' }],
          schedule: { expression: 'rate(5 minutes)' },
          queue: {},
        },
      },
      FILE,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.job.triggers.map((t) => `${t.kind}:${t.id}`)).toEqual([
      's3:s3-0',
      's3:s3-1',
      'schedule:schedule-0',
      'queue:queue',
    ]);
    expect(result.job.triggers[2]).toMatchObject({ timezone: 'UTC', flexibleWindow: 'off' });
    expect(result.job.triggers[3]).toMatchObject({
      batchSize: 1,
      fifo: false,
      visibilityTimeout: '6m',
      maxReceiveCount: 5,
      retention: '4d',
    });
  });

  it('accepts a Node build and a Dockerfile build, without image', () => {
    const node = validateJob(
      { name: 'resize', task: { build: { entry: 'tasks/resize.ts', base: 'node:22-slim' } } },
      FILE,
    );
    expect(node.ok && node.job.task).toMatchObject({
      build: { entry: 'tasks/resize.ts', base: 'node:22-slim' },
    });
    expect(node.ok && node.job.task.image).toBeUndefined();
    const docker = validateJob(
      { name: 'report', task: { build: { dockerfile: 'images/report/Dockerfile', context: 'images' } } },
      FILE,
    );
    expect(docker.ok && docker.job.task.build).toEqual({
      dockerfile: 'images/report/Dockerfile',
      context: 'images',
    });
  });

  it('accepts secrets by Secrets Manager and SSM ARN', () => {
    const result = validateJob(
      {
        ...base,
        task: {
          ...task,
          secrets: {
            DB: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf',
            API: 'arn:aws:ssm:us-east-1:123456789012:parameter/app/api-key',
          },
        },
      },
      FILE,
    );
    expect(result.ok).toBe(true);
  });

  it('accepts every overlap policy on a scheduled job', () => {
    for (const overlap of ['allow', 'skip', 'queue']) {
      expect(validateJob({ ...schedule({ expression: 'rate(5 minutes)' }), overlap }, FILE).ok).toBe(true);
    }
  });
});

describe('findDuplicateNames', () => {
  it('names every file that uses the name, on each file', () => {
    const issues = findDuplicateNames([
      { name: 'a', file: 'jobs/a.ts' },
      { name: 'a', file: 'jobs/copy.ts' },
      { name: 'a', file: 'jobs/nested/a.ts' },
      { name: 'b', file: 'jobs/b.ts' },
    ]).map(formatJobIssue);
    expect(issues).toEqual([
      `jobs/a.ts: name: job name 'a' is also used by jobs/copy.ts, jobs/nested/a.ts — give each job a unique name`,
      `jobs/copy.ts: name: job name 'a' is also used by jobs/a.ts, jobs/nested/a.ts — give each job a unique name`,
      `jobs/nested/a.ts: name: job name 'a' is also used by jobs/a.ts, jobs/copy.ts — give each job a unique name`,
    ]);
  });

  it('is silent for unique names', () => {
    expect(
      findDuplicateNames([
        { name: 'a', file: 'jobs/a.ts' },
        { name: 'b', file: 'jobs/b.ts' },
      ]),
    ).toEqual([]);
  });
});
