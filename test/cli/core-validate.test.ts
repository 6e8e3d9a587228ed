import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobFile, makeProject, removeProject, validJob } from '../loader/tmpProject.js';
import { type CliRun, runBerth } from './runCli.js';

const roots: string[] = [];
function project(files: Record<string, string>): string {
  const root = makeProject('cli-validate', files);
  roots.push(root);
  return root;
}
afterAll(() => {
  for (const root of roots) removeProject(root);
});

const task = { image: 'public.ecr.aws/docker/library/node:22-alpine' };
const job = (name: string, extra: Record<string, unknown>) => jobFile(validJob(name, extra));
const IMPORT_FIX =
  'fix the error; berth imports every file in the jobs folder (prefix helper files with _ to skip them)';

/**
 * One project, one bad thing per file, one CLI process: each file must produce exactly its line.
 * Files are named after what is wrong with them.
 */
const BAD_FILES: Record<string, [source: string, line: string]> = {
  'bad-cron': [
    job('bad-cron', { trigger: { schedule: { expression: 'cron(0 25 * * ? *)' } } }),
    'trigger.schedule.expression: "cron(0 25 * * ? *)": hours field "25": 25 is out of range 0-23 — use an hour from 0 to 23 (0 is midnight)',
  ],
  'question-both': [
    job('question-both', { trigger: { schedule: { expression: 'cron(0 2 ? * ? *)' } } }),
    `trigger.schedule.expression: "cron(0 2 ? * ? *)": day-of-month and day-of-week are both '?', but exactly one of day-of-month and day-of-week must be '?' — set the other one, e.g. cron(0 2 * * ? *) for every day or cron(0 2 ? * MON-FRI *) for weekdays`,
  ],
  'question-neither': [
    job('question-neither', { trigger: { schedule: { expression: 'cron(0 9 * * MON-FRI *)' } } }),
    `trigger.schedule.expression: "cron(0 9 * * MON-FRI *)": day-of-month "*" and day-of-week "MON-FRI" are both set, but exactly one of day-of-month and day-of-week must be '?' — write cron(0 9 ? * MON-FRI *)`,
  ],
  'rate-plural': [
    job('rate-plural', { trigger: { schedule: { expression: 'rate(1 minutes)' } } }),
    `trigger.schedule.expression: "rate(1 minutes)": a value of 1 takes the singular unit — write rate(1 minute)`,
  ],
  'fargate-pair': [
    job('fargate-pair', { task: { ...task, cpu: 512, memory: 512 } }),
    `task.memory: Fargate does not accept memory 512 MiB with cpu 512 — with cpu 512 use 1024, 2048, 3072, 4096 MiB`,
  ],
  'unknown-key': [
    job('unknown-key', { task: { ...task, memorySize: 1024 } }),
    `task: unknown key 'memorySize' — allowed keys are: image, build, command, entryPoint, cpu, memory, architecture, environment, secrets, secretsKmsKeyArn, ephemeralStorageGiB, volumes, capacity, permissions, logRetentionDays, local`,
  ],
  'plain-secret': [
    job('plain-secret', { task: { ...task, secrets: { API_KEY: 'sk-live-123' } } }),
    `task.secrets.API_KEY: is not a Secrets Manager or SSM parameter ARN — put the value in Secrets Manager or SSM and give its ARN (arn:aws:secretsmanager:… or arn:aws:ssm:…:parameter/…); plain values belong in environment`,
  ],
  'throws-on-import': [
    `import { defineJob } from 'berth';\nconst url = process.env.NOT_SET_ANYWHERE;\nif (!url) throw new Error('NOT_SET_ANYWHERE is required');\nexport default defineJob({ name: 'throws', task: { image: url } });\n`,
    `(file): throws on import: NOT_SET_ANYWHERE is required — ${IMPORT_FIX}`,
  ],
  'no-default': [
    `import { defineJob } from 'berth';\nexport const job = defineJob({ name: 'no-default', task: { image: 'x' } });\n`,
    '(file): has no default export — end the file with export default defineJob({ ... }), or prefix helper files with _',
  ],
  'bad-name': [
    job('Nightly_Report', {}),
    `name: may only hold lowercase letters, digits and '-', starting with a letter — write it like 'resize-images'`,
  ],
  'bad-duration': [
    job('bad-duration', { timeout: '1 hour' }),
    `timeout: "1 hour" is not a duration — write a number and a unit: '500ms', '30s', '15m', '2h' or '1d'`,
  ],
  'bad-timezone': [
    job('bad-timezone', { trigger: { schedule: { expression: 'rate(1 hour)', timezone: 'KST' } } }),
    `trigger.schedule.timezone: "KST" is not an IANA time zone — use an IANA name such as 'UTC', 'Europe/Berlin' or 'Asia/Seoul'`,
  ],
  'bad-bucket': [
    job('bad-bucket', { trigger: { s3: { bucket: 's3://uploads' } } }),
    'trigger.s3.bucket: is not a valid S3 bucket name — use 3-63 lowercase letters, digits, dots and hyphens, not an ARN',
  ],
  'batch-size': [
    job('batch-size', { trigger: { queue: { batchSize: 11 } } }),
    'trigger.queue.batchSize: is above 10, the most SQS hands to one invocation here — use 1 to 10',
  ],
  'max-attempts': [
    job('max-attempts', { retry: { maxAttempts: 0 } }),
    'retry.maxAttempts: is below 1, but it counts the first attempt — use 1 for no retries, or more to retry',
  ],
  'rule-outcome': [
    job('rule-outcome', { retry: { rules: [{ onOutcome: 'out_of_memory', action: 'fail' }] } }),
    'retry.rules[0].onOutcome: unknown outcome class — use one of succeeded, app_error, oom, start_failure, spot_interrupted, timed_out, cancelled, lost',
  ],
  'overlap-no-schedule': [
    job('overlap-no-schedule', { overlap: 'queue', trigger: { queue: {} } }),
    `overlap: 'queue' only applies to schedule triggers and this job has none — remove overlap or use maxConcurrency`,
  ],
  'bad-efs': [
    job('bad-efs', { task: { ...task, volumes: [{ fileSystemId: 'fs-XYZ', mountPath: '/data' }] } }),
    'task.volumes[0].fileSystemId: is not an EFS file system id — use fs-0123456789abcdef0',
  ],
  'ephemeral-10': [
    job('ephemeral-10', { task: { ...task, ephemeralStorageGiB: 10 } }),
    'task.ephemeralStorageGiB: is below 21 GiB — Fargate gives 20 GiB by default; omit the field or use 21 to 200',
  ],
  'log-retention': [
    job('log-retention', { task: { ...task, logRetentionDays: 45 } }),
    'task.logRetentionDays: is not a CloudWatch Logs retention — use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653',
  ],
  'bad-sns': [
    job('bad-sns', { notify: { sns: ['my-topic'] } }),
    'notify.sns[0]: is not an SNS topic ARN — use arn:aws:sns:<region>:<account>:<topic>',
  ],
};

describe('berth validate (real CLI): bad input', () => {
  const root = project({
    ...Object.fromEntries(Object.entries(BAD_FILES).map(([name, [source]]) => [`jobs/${name}.ts`, source])),
    // Two good files sharing a name: both must be named.
    'jobs/dup-a.ts': job('shared-name', {}),
    'jobs/nested/dup-b.ts': job('shared-name', {}),
    'jobs/fine.ts': job('fine', {}),
  });
  const before = readdirSync(root, { recursive: true }).sort();
  let run: CliRun;
  let lines: string[] = [];
  beforeAll(() => {
    run = runBerth(['validate', '-C', root]);
    lines = run.stderr.trimEnd().split('\n');
  });

  it('exits 1, prints nothing on stdout and writes nothing into the project', () => {
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(readdirSync(root, { recursive: true }).sort()).toEqual(before);
  });

  it.each(Object.entries(BAD_FILES))('jobs/%s.ts', (name, [, line]) => {
    const mine = lines.filter((l) => l.startsWith(`✖ jobs/${name}.ts: `));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toBe(`✖ jobs/${name}.ts: ${line}`);
  });

  it('names both files of a duplicate name', () => {
    expect(lines).toContain(
      "✖ jobs/dup-a.ts: name: job name 'shared-name' is also used by jobs/nested/dup-b.ts — give each job a unique name",
    );
    expect(lines).toContain(
      "✖ jobs/nested/dup-b.ts: name: job name 'shared-name' is also used by jobs/dup-a.ts — give each job a unique name",
    );
  });

  it('collects every problem of every file in one run, and counts them', () => {
    const count = Object.keys(BAD_FILES).length + 2;
    expect(lines.filter((l) => l.startsWith('✖ jobs/'))).toHaveLength(count);
    expect(lines.at(-1)).toBe(`${count} problems found`);
    expect(lines.some((l) => l.includes('jobs/fine.ts'))).toBe(false);
  });
});

describe('berth validate (real CLI): good input', () => {
  it('passes on the example jobs', () => {
    const run = runBerth(['validate']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('✔ 4 jobs valid: email-sender, nightly-report, order-worker, thumbnail\n');
  });

  it('checks task.build against the project: a missing entry, a Dockerfile outside it', () => {
    const root = project({
      'jobs/ok.ts': job('ok', { task: { build: { entry: 'tasks/ok.ts' } } }),
      'tasks/ok.ts': 'console.log(1);\n',
      'jobs/missing.ts': job('missing', { task: { build: { entry: 'tasks/missing.ts' } } }),
      'jobs/outside.ts': job('outside', { task: { build: { dockerfile: '../Dockerfile' } } }),
      'jobs/both.ts': job('both', { task: { ...task, build: { entry: 'tasks/ok.ts' } } }),
    });
    const run = runBerth(['validate', '-C', root]);
    expect(run.code).toBe(1);
    // validate collects every problem in one run: the model's checks and the project checks of the valid files.
    expect(run.stderr).toBe(
      [
        '✖ jobs/both.ts: task.build: image and build are exclusive — remove image to let berth build and pin the image, or remove build to run a prebuilt image',
        "✖ jobs/missing.ts: task.build.entry: tasks/missing.ts does not exist — create it or fix the path (relative to the project root, like 'tasks/missing.ts')",
        '✖ jobs/outside.ts: task.build.dockerfile: ../Dockerfile is outside the project — move the Dockerfile into the project (berth only builds what the project holds), like images/<job>/Dockerfile',
        '3 problems found',
        '',
      ].join('\n'),
    );
    const fixed = project({
      'jobs/ok.ts': job('ok', { task: { build: { entry: 'tasks/ok.ts' } } }),
      'tasks/ok.ts': 'console.log(1);\n',
      'jobs/missing.ts': job('missing', { task: { build: { entry: 'tasks/missing.ts' } } }),
      'jobs/outside.ts': job('outside', { task: { build: { dockerfile: '../Dockerfile' } } }),
    });
    const again = runBerth(['validate', '-C', fixed]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      [
        "✖ jobs/missing.ts: task.build.entry: tasks/missing.ts does not exist — create it or fix the path (relative to the project root, like 'tasks/missing.ts')",
        '✖ jobs/outside.ts: task.build.dockerfile: ../Dockerfile is outside the project — move the Dockerfile into the project (berth only builds what the project holds), like images/<job>/Dockerfile',
        '2 problems found',
        '',
      ].join('\n'),
    );
  });

  it('fails the whole run when one file of many is bad: no partial list', () => {
    const root = project({
      'jobs/a.ts': job('a', {}),
      'jobs/b.ts': job('b', { task: { ...task, cpu: 2048, memory: 2048 } }),
    });
    const run = runBerth(['list', '--json', '-C', root]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      '✖ jobs/b.ts: task.memory: Fargate does not accept memory 2048 MiB with cpu 2048 — with cpu 2048 use 4096 to 16384 in steps of 1024 MiB\n1 problem found\n',
    );
  });

  it('reads jobs from --jobs-dir', () => {
    const root = project({ 'workers/one.ts': job('one', {}) });
    const run = runBerth(['--jobs-dir', 'workers', 'validate', '-C', root]);
    expect(run.stdout).toBe('✔ 1 job valid: one\n');
    expect(run.code).toBe(0);
  });
});
