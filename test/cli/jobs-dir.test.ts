import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cfnLint } from '../helpers/cfnLint.js';
import { jobFile, makeProject, REPO_ROOT, removeProject, validJob } from '../loader/tmpProject.js';
import { runBerth, runBerthAsync } from './runCli.js';

/**
 * One project layout for every command: serverless.yml says `custom.berth.jobsDir: src/jobs`, no command is
 * given --jobs-dir, and the default `jobs/` folder holds a file that fails to load, so a command that still
 * read `jobs/` fails naming it.
 */
const roots: string[] = [];
afterAll(() => {
  for (const root of roots) removeProject(root);
});

function project(
  yml = 'service: shop\ncustom:\n  berth:\n    jobsDir: src/jobs\n',
  file = 'serverless.yml',
): string {
  const root = makeProject('cli-jobs-dir', {
    [file]: yml,
    'src/jobs/report.ts': jobFile(
      validJob('report', { trigger: { schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'UTC' } } }),
    ),
    'src/jobs/orders.ts': jobFile(validJob('orders', { trigger: { queue: { batchSize: 1 } } })),
    'src/jobs/thumbs.ts': jobFile(validJob('thumbs', { trigger: { s3: { bucket: 'uploads' } } })),
    'jobs/stale.ts': 'export default {\n',
  });
  roots.push(root);
  return root;
}

describe('custom.berth.jobsDir is the jobs folder of every command', () => {
  const root = project();

  it('list', () => {
    const run = runBerth(['list', '--json', '-C', root]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).map((j: { name: string; file: string }) => [j.name, j.file])).toEqual([
      ['orders', 'src/jobs/orders.ts'],
      ['report', 'src/jobs/report.ts'],
      ['thumbs', 'src/jobs/thumbs.ts'],
    ]);
  });

  it('schedule', () => {
    const run = runBerth(['schedule', 'report', '-n', '1', '--from', '2030-01-01T00:00:00Z', '-C', root]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2030-01-01');
  });

  it('validate', () => {
    const run = runBerth(['validate', '-C', root]);
    expect(run.stdout).toBe('✔ 3 jobs valid: orders, report, thumbs\n');
    expect(run.code).toBe(0);
  });

  it('synth', () => {
    const out = join(root, '.out', 'template.json');
    const run = runBerth(['synth', '--out', out, '-C', root]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/✔ 3 jobs → /);
    const template = JSON.parse(readFileSync(out, 'utf8')) as { Resources: Record<string, unknown> };
    expect(Object.keys(template.Resources).some((id) => /Report/.test(id))).toBe(true);
    expect(Object.keys(template.Resources).some((id) => /Orders/.test(id))).toBe(true);
    const lint = cfnLint(out);
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
  });

  it('invoke, send, runs, redrive and put (local)', async () => {
    const invoke = await runBerthAsync(['invoke', 'report', '--json', '-C', root]);
    expect(invoke.stderr).toBe('');
    expect(invoke.code).toBe(0);
    expect(JSON.parse(invoke.stdout)).toMatchObject({ status: 'accepted' });
    const send = await runBerthAsync(['send', 'orders', '{"id":1}', '--json', '-C', root]);
    expect(send.stderr).toBe('');
    expect(send.code).toBe(0);
    expect(JSON.parse(send.stdout)).toHaveProperty('messageId');
    const runs = await runBerthAsync(['runs', 'list', '--job', 'report', '--json', '-C', root]);
    expect(runs.stderr).toBe('');
    expect(runs.code).toBe(0);
    expect(JSON.parse(runs.stdout).length).toBe(1);
    const redrive = await runBerthAsync(['redrive', 'orders', '--json', '-C', root]);
    expect(redrive.stderr).toBe('');
    expect(redrive.code).toBe(0);
    expect(JSON.parse(redrive.stdout)).toEqual({ runs: [], messages: 0 });
    const put = await runBerthAsync([
      'put',
      'uploads',
      join(root, 'serverless.yml'),
      '--key',
      'a.yml',
      '-C',
      root,
    ]);
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
    expect(readFileSync(join(root, '.berth', 'buckets', 'uploads', 'a.yml'), 'utf8')).toContain('jobsDir');
  });

  it('image build (reaches the job: it has no task.build)', () => {
    const run = runBerth(['image', 'build', 'report', '-C', root]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('report: task.build is not set');
  });

  it('console (loads the jobs before it asks AWS for the stack)', async () => {
    const run = await runBerthAsync(['console', '--stage', 'dev', '--region', 'us-east-1', '-C', root], {
      env: {
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_MAX_ATTEMPTS: '1',
      },
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).not.toMatch(/stale|jobs folder|no job/);
    expect(run.stderr).toMatch(/shop-dev|ECONNREFUSED|stack/i);
  });

  it('dev', async () => {
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'bin/berth.js'), 'dev', '--plain', '--port', '0', '-C', root],
      { env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, CI: '1' }, stdio: 'pipe' },
    );
    let out = '';
    const banner = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner in 20 s:\n${out}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString('utf8');
        if (/orders/.test(out) && /report/.test(out)) {
          clearTimeout(timer);
          resolve(out);
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        reject(new Error(`berth dev exited:\n${out}`));
      });
    }).finally(() => child.kill('SIGINT'));
    expect(banner).not.toMatch(/stale/);
    await new Promise((resolve) => child.once('exit', resolve));
  });

  it('--jobs-dir still wins over custom.berth.jobsDir', () => {
    const run = runBerth(['--jobs-dir', 'jobs', 'list', '--json', '-C', root]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('jobs/stale.ts');
  });
});

/** `${` written out of a template literal: Serverless variables in the YAML text. */
const VAR = '$' + '{';

describe('reading the service file', () => {
  it('names the file, the field and the fix', () => {
    const root = project(`service: shop\ncustom:\n  berth:\n    jobsDir: ${VAR}env:JOBS}\n`);
    const run = runBerth(['list', '-C', root]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`serverless.yml: custom.berth.jobsDir is "${VAR}env:JOBS}"`);
    expect(run.stderr).toContain('pass --jobs-dir');
  });

  it.each([
    ['serverless.yaml', 'service: shop\ncustom: { berth: { jobsDir: src/jobs } }\n'],
    [
      'serverless.json',
      JSON.stringify({ service: 'shop', custom: { berth: { jobsDir: 'src/jobs' } } }, null, 2),
    ],
  ])('reads %s (flow style and JSON too)', (file, text) => {
    const root = project(text, file);
    const run = runBerth(['list', '--json', '-C', root]);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toHaveLength(3);
  });

  it('names serverless.yaml in its errors', () => {
    const root = project('service: shop\ncustom:\n  berth:\n    jobsDir: 3\n', 'serverless.yaml');
    const run = runBerth(['list', '-C', root]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('serverless.yaml: custom.berth.jobsDir must be a folder path');
  });

  it('reads a serverless.yml that uses CloudFormation short-form tags', () => {
    const root = project(
      `service: shop\ncustom:\n  berth:\n    jobsDir: src/jobs\nresources:\n  Outputs:\n    Queue:\n      Value: !GetAtt Queue.Arn\n    Name: !Sub "${VAR}AWS::StackName}-x"\n`,
    );
    const run = runBerth(['list', '--json', '-C', root]);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toHaveLength(3);
  });
});
