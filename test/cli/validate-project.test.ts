/**
 * `berth validate` against the project as synth sees it (custom.berth included), the warnings channel
 * (--strict, --json), and `berth schedule` / `berth list` inside a schedule's startDate/endDate window.
 * Every case runs the real binary (node bin/berth.js) in a temporary project.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobFile, makeProject, removeProject, validJob } from '../loader/tmpProject.js';
import { runBerth } from './runCli.js';

const roots: string[] = [];
function project(files: Record<string, string>): string {
  const root = makeProject('cli-validate-project', files);
  roots.push(root);
  return root;
}
afterAll(() => {
  for (const root of roots) removeProject(root);
});

const job = (name: string, extra: Record<string, unknown> = {}) => jobFile(validJob(name, extra));
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('✖ '));

describe('validate and synth never disagree (the same broken inputs)', () => {
  const BROKEN: Record<string, { files: Record<string, string>; line: string }> = {
    'a queue hidden for less than 6× the launcher timeout': {
      files: { 'jobs/q.ts': job('q', { trigger: { queue: { visibilityTimeout: '1m' } } }) },
      line: "jobs/q.ts: trigger.queue.visibilityTimeout: 1m is shorter than 6× the launcher timeout (30s), so a message could be delivered again while its launch still runs — use at least '3m'",
    },
    'an EC2 job without custom.berth.capacity.ec2': {
      files: {
        'jobs/e.ts': job('e', {
          task: { image: 'public.ecr.aws/docker/library/node:22-alpine', capacity: { provider: 'ec2' } },
        }),
      },
      line: "jobs/e.ts: task.capacity: { provider: 'ec2' } but the service has no EC2 capacity — add custom.berth.capacity.ec2 (instanceTypes, maxSize) to serverless.yml, or use capacity 'FARGATE'",
    },
    'a FIFO notify topic': {
      files: {
        'jobs/n.ts': job('n', { notify: { sns: ['arn:aws:sns:us-east-1:123456789012:alerts.fifo'] } }),
      },
      line: 'jobs/n.ts: notify.sns: arn:aws:sns:us-east-1:123456789012:alerts.fifo is a FIFO topic, which EventBridge rules cannot publish to without a message group — use a standard topic',
    },
    'a subscriber naming a job that does not exist': {
      files: {
        'jobs/orders.ts': job('orders'),
        'subscribers/page.ts': `import { defineSubscriber } from 'berth';\nexport default defineSubscriber({ on: ['Job Run Failed'], jobs: ['order'] }, async () => {});\n`,
      },
      line: 'subscribers/page.ts: jobs: no job named order — use one of orders',
    },
    'a subscriber permission that is no IAM action (checked by the loader, not by import)': {
      files: {
        'jobs/orders.ts': job('orders'),
        'subscribers/page.ts': `import { defineSubscriber } from 'berth';\nexport default defineSubscriber({ on: ['Job Run Failed'], permissions: [{ actions: ['publish'], resources: ['*'] }] }, async () => {});\n`,
      },
      line: 'subscribers/page.ts: permissions[0].actions[0]: is not an IAM action — write service:Action, like s3:GetObject',
    },
    'an ECR lifecycle policy past its limit (found by compiling the stack in memory)': {
      files: {
        'tasks/t.ts': 'console.log(1);\n',
        ...Object.fromEntries(
          Array.from({ length: 90 }, (_, i) => [
            `jobs/j${i}.ts`,
            job(`image-job-number-${String(i).padStart(3, '0')}-abcdefghij`, {
              task: { build: { entry: 'tasks/t.ts' } },
            }),
          ]),
        ),
      },
      line: 'custom.berth.images.repository: the lifecycle policy of berth/',
    },
    'a stack past the 500 resources CloudFormation allows (measured as synth measures it)': {
      files: Object.fromEntries(
        Array.from({ length: 130 }, (_, i) => [`jobs/j${i}.ts`, job(`job-${i}`, { trigger: { queue: {} } })]),
      ),
      line: 'the stack would hold 688 resources (CloudFormation allows 500 per stack): 38 shared + 650 for 130 jobs',
    },
    'a bad custom.berth in serverless.yml': {
      files: {
        'jobs/ok.ts': job('ok'),
        'serverless.yml':
          'service: shop\ncustom:\n  berth:\n    logRetentionDays: 45\n    launcherConcurrency: 2.5\n',
      },
      line: 'custom.berth.logRetentionDays: is not a CloudWatch Logs retention',
    },
  };

  it.each(Object.entries(BROKEN))('%s', (_name, { files, line }) => {
    const root = project(files);
    const validate = runBerth(['validate', '-C', root]);
    const synth = runBerth(['synth', '-C', root, '--out', join(root, 'out.json')]);
    expect(validate.code).toBe(1);
    expect(synth.code).toBe(1);
    expect(validate.stderr).toContain(line);
    expect(synth.stderr).toContain(line);
    expect(synth.stderr).not.toMatch(/^\s+at /m);
    // Every error validate reports, synth reports too (config lines without the file: the plugin has none;
    // stack-wide lines without the `(stack)` field).
    for (const l of errorLines(validate.stderr)) {
      expect(synth.stderr).toContain(l.slice(2).replace(/^serverless\.yml: (\(stack\): )?/, ''));
    }
  });

  it('a whole number is asked for in berth words, in validate and synth alike', () => {
    const root = project(BROKEN['a bad custom.berth in serverless.yml']!.files);
    const validate = runBerth(['validate', '-C', root]);
    expect(validate.stderr).toContain(
      '✖ serverless.yml: custom.berth.launcherConcurrency: is 2.5, but must be a whole number — write a whole number, like 3',
    );
    expect(validate.stderr).not.toMatch(/expected .*, received|Invalid input/);
  });

  it('both accept a project that deploys: a queue hidden for 3m', () => {
    const root = project({ 'jobs/q.ts': job('q', { trigger: { queue: { visibilityTimeout: '3m' } } }) });
    const validate = runBerth(['validate', '-C', root]);
    expect(validate.stdout).toBe('✔ 1 job valid: q\n');
    expect(validate.code).toBe(0);
    const synth = runBerth(['synth', '-C', root, '--out', join(root, 'out.json')]);
    expect(synth.stderr).not.toContain('✖');
    expect(synth.code).toBe(0);
  });
});

describe('validate: every bad subscriber permission, one issue each', () => {
  it('--json lists both statements with their field', () => {
    const root = project({
      'jobs/orders.ts': job('orders'),
      'subscribers/page.ts': `import { defineSubscriber } from 'berth';\nexport default defineSubscriber({ on: ['Job Run Failed'], permissions: [{ actions: ['publish'], resources: ['*'] }, { effect: 'Maybe', actions: ['sns:Publish'], resources: ['*'] }] }, async () => {});\n`,
    });
    const run = runBerth(['validate', '--json', '-C', root]);
    expect(run.code).toBe(1);
    const out = JSON.parse(run.stdout) as { problems: { file: string; field: string; severity: string }[] };
    expect(out.problems.map((e) => [e.file, e.field, e.severity])).toEqual([
      ['subscribers/page.ts', 'permissions[0].actions[0]', 'error'],
      ['subscribers/page.ts', 'permissions[1].effect', 'error'],
    ]);
  });
});

describe('validate: errors AWS or the calendar would reject', () => {
  const root = project({
    'jobs/window.ts': job('window', {
      trigger: {
        schedule: {
          expression: 'rate(1 hour)',
          startDate: '2027-02-01T00:00:00',
          endDate: '2027-01-01T00:00:00',
        },
      },
    }),
    'jobs/backoff.ts': job('backoff', { retry: { backoff: { minDelay: '10m' } } }),
    'jobs/feb30.ts': job('feb30', { trigger: { schedule: { expression: 'cron(0 2 30 2 ? *)' } } }),
    'jobs/numeric-name.ts': jobFile({ name: 42, task: { image: 'x' } }),
    'jobs/float-cpu.ts': job('float-cpu', { maxConcurrency: 2.5 }),
  });
  const run = runBerth(['validate', '-C', root]);

  it('names the file, the field, what is wrong and the fix', () => {
    expect(run.code).toBe(1);
    expect(errorLines(run.stderr).sort()).toEqual(
      [
        '✖ jobs/window.ts: trigger.schedule.startDate: startDate 2027-02-01T00:00:00 is after endDate 2027-01-01T00:00:00, so the schedule never fires — swap them or fix one',
        '✖ jobs/backoff.ts: retry.backoff.minDelay: minDelay 10m is longer than maxDelay 5m (every delay is capped at maxDelay, 5m by default) — raise maxDelay or lower minDelay',
        '✖ jobs/feb30.ts: trigger.schedule.expression: "cron(0 2 30 2 ? *)": never fires: February has no day 30 (at most 29 days) — use a day the month has, or L for the last day of the month, e.g. cron(0 2 L 2 ? *)',
        "✖ jobs/numeric-name.ts: name: must be a string, not 42 — write the name in quotes, like 'resize-images'",
        '✖ jobs/float-cpu.ts: maxConcurrency: is 2.5, but must be a whole number — write a whole number, like 3',
      ].sort(),
    );
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe('5 problems found');
  });
});

describe('validate: the warnings channel', () => {
  const files = {
    'jobs/past.ts': job('past', {
      trigger: { schedule: { expression: 'at(2020-01-01T09:00:00)', timezone: 'Asia/Seoul' } },
    }),
    'jobs/ended.ts': job('ended', {
      trigger: { schedule: { expression: 'cron(0 2 * * ? *)', endDate: '2021-06-30T00:00:00' } },
    }),
    'jobs/no-retry.ts': job('no-retry', {
      retry: { rules: [{ action: 'fail' }, { onExitCode: 2, action: 'retry' }] },
    }),
    'jobs/fine.ts': job('fine'),
  };
  const WARNINGS = [
    '⚠ jobs/past.ts: trigger.schedule.expression: never fires again: at(2020-01-01T09:00:00) was 2020-01-01T09:00:00+09:00, in the past — move it to a future time, or remove the schedule',
    "⚠ jobs/ended.ts: trigger.schedule.endDate: never fires again: the schedule's window ended at endDate 2021-06-30T00:00:00 (2021-06-30T00:00:00+00:00), in the past — move the window (startDate/endDate) or the expression into the future, or remove the schedule",
    '⚠ jobs/no-retry.ts: retry.rules[0]: has no condition, so it matches every failure and turns off every retry (maxAttempts 3 is never reached) — add a condition (onExitCode, onOutcome, onStopCode, onReason), or set retry.maxAttempts: 1 to turn retries off',
    '⚠ jobs/no-retry.ts: retry.rules[1]: is never checked: rules[0] before it has no condition and matches every failure — move it before rules[0], or remove it',
  ];

  it('prints warnings after the errors with their own mark, and exits 0 when there is no error', () => {
    const root = project(files);
    const run = runBerth(['validate', '-C', root]);
    expect(run.code).toBe(0);
    expect(run.stderr.trimEnd().split('\n').sort()).toEqual([...WARNINGS].sort());
    expect(run.stdout).toBe('✔ 4 jobs valid (4 warnings): ended, fine, no-retry, past\n');
  });

  it('prints the errors first when there are both', () => {
    const root = project({ ...files, 'jobs/broken.ts': job('broken', { timeout: '1 hour' }) });
    const run = runBerth(['validate', '-C', root]);
    expect(run.code).toBe(1);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^✖ jobs\/broken\.ts: timeout: "1 hour" is not a duration/);
    expect(lines.slice(1, 5).every((l) => l.startsWith('⚠ '))).toBe(true);
    expect(lines.at(-1)).toBe('1 problem found, 4 warnings');
    expect(run.stdout).toBe('');
  });

  it('--strict makes warnings errors (exit 1)', () => {
    const root = project(files);
    const run = runBerth(['validate', '--strict', '-C', root]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('✖ warning (--strict): jobs/'))).toHaveLength(4);
    expect(lines.at(-1)).toBe('4 problems found, 4 warnings among them');
  });

  it('--json prints { ok, jobs, problems: [{ file, field, severity, message, fix }] }', () => {
    const root = project({ ...files, 'jobs/broken.ts': job('broken', { timeout: '1 hour' }) });
    const run = runBerth(['validate', '--json', '-C', root]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      jobs: string[];
      problems: { file: string; field: string; severity: string; message: string; fix: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.jobs.sort()).toEqual(['ended', 'fine', 'no-retry', 'past']);
    expect(report.problems.map((p) => p.severity)).toEqual([
      'error',
      'warning',
      'warning',
      'warning',
      'warning',
    ]);
    expect(report.problems[0]).toEqual({
      file: 'jobs/broken.ts',
      field: 'timeout',
      severity: 'error',
      message: '"1 hour" is not a duration',
      fix: "write a number and a unit: '500ms', '30s', '15m', '2h' or '1d'",
    });
    for (const p of report.problems)
      expect(Object.keys(p).sort()).toEqual(['field', 'file', 'fix', 'message', 'severity']);
    const okRun = runBerth(['validate', '--json', '-C', project(files)]);
    expect(okRun.code).toBe(0);
    expect(JSON.parse(okRun.stdout).ok).toBe(true);
    const strict = runBerth(['validate', '--json', '--strict', '-C', project(files)]);
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout).ok).toBe(false);
  });

  it('an empty jobs folder is a warning, never "✔ 0 jobs valid"', () => {
    const root = project({});
    const run = runBerth(['validate', '-C', root]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      '⚠ jobs/: (folder): holds no job files, so there is nothing to deploy — add jobs/<name>.ts ending in export default defineJob({ ... }) (berth init writes one), or point --jobs-dir / custom.berth.jobsDir at your jobs\n',
    );
    expect(runBerth(['validate', '--strict', '-C', root]).code).toBe(1);
  });

  it('a missing jobs folder is an error, in --json too', () => {
    const root = project({});
    const run = runBerth(['--jobs-dir', 'workers', 'validate', '--json', '-C', root]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      ok: false,
      jobs: [],
      problems: [
        {
          file: 'workers/',
          field: '(folder)',
          severity: 'error',
          message: 'does not exist',
          fix: 'create it (berth init writes one job), or point --jobs-dir / custom.berth.jobsDir at your jobs',
        },
      ],
    });
  });

  it('reads custom.berth.jobsDir from serverless.yml, as synth does', () => {
    const root = project({
      'src/jobs/one.ts': job('one'),
      'serverless.yml': 'service: shop\ncustom:\n  berth:\n    jobsDir: src/jobs\n',
    });
    const run = runBerth(['validate', '-C', root]);
    expect(run.stdout).toBe('✔ 1 job valid: one\n');
    expect(run.code).toBe(0);
  });
});

describe('berth schedule and berth list inside startDate/endDate', () => {
  const root = project({
    'jobs/window.ts': job('window', {
      trigger: {
        schedule: {
          expression: 'cron(0 2 * * ? *)',
          timezone: 'Asia/Seoul',
          startDate: '2030-03-10T00:00:00',
          endDate: '2030-03-12T23:00:00',
        },
      },
    }),
    'jobs/ended.ts': job('ended', {
      trigger: { schedule: { expression: 'rate(1 hour)', endDate: '2021-06-30T00:00:00' } },
    }),
    'jobs/night.ts': job('night', { trigger: { schedule: { expression: 'cron(0/30 20-2 ? * MON-FRI *)' } } }),
  });

  it('schedule prints only the fire times inside the window', () => {
    const run = runBerth(['schedule', 'window', '-n', '5', '--from', '2030-01-01T00:00:00Z', '-C', root]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        '2030-03-10T02:00:00+09:00  cron(0 2 * * ? *) (Asia/Seoul)',
        '2030-03-11T02:00:00+09:00  cron(0 2 * * ? *) (Asia/Seoul)',
        '2030-03-12T02:00:00+09:00  cron(0 2 * * ? *) (Asia/Seoul)',
        '',
      ].join('\n'),
    );
  });

  it('schedule never prints nothing with exit 0: a window in the past says so, naming the time', () => {
    const run = runBerth(['schedule', 'ended', '-C', root]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^✖ jobs\/ended\.ts: trigger\.schedule: no fire time after \S+: the schedule's window ended at endDate 2021-06-30T00:00:00 \(2021-06-30T00:00:00\+00:00\), in the past — move the schedule/,
    );
  });

  it("schedule computes AWS's wrap-around hour range", () => {
    // 2030-03-01 is a Friday: 20:00-23:30 that evening, then Monday 00:00-02:30.
    const run = runBerth([
      'schedule',
      'night',
      '-n',
      '10',
      '--from',
      '2030-03-01T19:59:00+00:00',
      '--json',
      '-C',
      root,
    ]);
    expect(run.code).toBe(0);
    const times = (JSON.parse(run.stdout) as { fireAt: string }[]).map((r) => r.fireAt);
    expect(times).toEqual([
      '2030-03-01T20:00:00+00:00',
      '2030-03-01T20:30:00+00:00',
      '2030-03-01T21:00:00+00:00',
      '2030-03-01T21:30:00+00:00',
      '2030-03-01T22:00:00+00:00',
      '2030-03-01T22:30:00+00:00',
      '2030-03-01T23:00:00+00:00',
      '2030-03-01T23:30:00+00:00',
      '2030-03-04T00:00:00+00:00',
      '2030-03-04T00:30:00+00:00',
    ]);
  });

  it('list shows the next fire inside the window, and none once it ended', () => {
    const run = runBerth(['list', '--json', '-C', root]);
    expect(run.code).toBe(0);
    const rows = JSON.parse(run.stdout) as { name: string; nextFireAt: string | null }[];
    const next = Object.fromEntries(rows.map((r) => [r.name, r.nextFireAt]));
    expect(next.window).toBe('2030-03-10T02:00:00+09:00');
    expect(next.ended).toBeNull();
    const text = runBerth(['list', '-C', root]);
    expect(text.stdout).toContain("next: none (no fire time left in the schedule's window)");
  });
});
