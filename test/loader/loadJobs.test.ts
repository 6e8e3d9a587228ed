import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BerthError, formatJobIssue, JobValidationError } from '../../src/core/errors.js';
import { NO_RETRY_EXIT_CODE } from '../../src/core/lifecycle/classify.js';
import { findJobFiles, loadJobs, loadJobsOrThrow } from '../../src/loader/loadJobs.js';
import { jobFile, makeProject, REPO_ROOT, removeProject, validJob } from './tmpProject.js';

const roots: string[] = [];
function project(files: Record<string, string>): string {
  const root = makeProject('loader', files);
  roots.push(root);
  return root;
}
afterAll(() => {
  for (const root of roots) removeProject(root);
});

const IMPORT_FIX =
  'fix the error; berth imports every file in the jobs folder (prefix helper files with _ to skip them)';

describe.each(['per-file', 'bundle'] as const)('loadJobs (strategy %s)', (strategy) => {
  it('loads the example jobs of the repository', async () => {
    const result = await loadJobs({ strategy, root: REPO_ROOT });
    expect(result.issues).toEqual([]);
    expect(result.jobs.map((j) => [j.name, j.file])).toEqual([
      ['email-sender', 'jobs/email-sender.ts'],
      ['nightly-report', 'jobs/nightly-report.ts'],
      ['order-worker', 'jobs/order-worker.ts'],
      ['thumbnail', 'jobs/thumbnail.ts'],
    ]);
  });

  it('collects the problems of every file in one pass', async () => {
    const root = project({
      'jobs/a-good.ts': jobFile(validJob('good')),
      'jobs/b-cpu.ts': jobFile(validJob('cpu', { task: { image: 'x', cpu: 256, memory: 4096 } })),
      'jobs/c-rate.ts': jobFile(
        validJob('rate', { trigger: { schedule: { expression: 'rate(1 minutes)' } } }),
      ),
      'jobs/d-throws.ts': `throw new Error('database URL is not set');\n`,
      'jobs/e-nodefault.ts': `export const job = 1;\n`,
      'jobs/f-notjob.ts': `export default { name: 'plain-object' };\n`,
    });
    const result = await loadJobs({ strategy, root });
    expect(result.jobs.map((j) => j.name)).toEqual(['good']);
    expect(result.files).toEqual([
      'jobs/a-good.ts',
      'jobs/b-cpu.ts',
      'jobs/c-rate.ts',
      'jobs/d-throws.ts',
      'jobs/e-nodefault.ts',
      'jobs/f-notjob.ts',
    ]);
    expect(result.issues.map(formatJobIssue)).toEqual([
      'jobs/b-cpu.ts: task.memory: Fargate does not accept memory 4096 MiB with cpu 256 — with cpu 256 use 512, 1024, 2048 MiB',
      'jobs/c-rate.ts: trigger.schedule.expression: "rate(1 minutes)": a value of 1 takes the singular unit — write rate(1 minute)',
      `jobs/d-throws.ts: (file): throws on import: database URL is not set — ${IMPORT_FIX}`,
      'jobs/e-nodefault.ts: (file): has no default export — end the file with export default defineJob({ ... }), or prefix helper files with _',
      "jobs/f-notjob.ts: (file): the default export is not a job — wrap it: import { defineJob } from 'berth'; export default defineJob({ ... })",
    ]);
  });

  it('reports a syntax error with file:line:column, the message and a code frame', async () => {
    const root = project({
      'jobs/good.ts': jobFile(validJob('good')),
      'jobs/broken.ts': `import { defineJob } from 'berth';\nexport default defineJob({ name: 'x' task: { image: 'x' } });\n`,
    });
    const result = await loadJobs({ strategy, root });
    expect(result.jobs.map((j) => j.name)).toEqual(['good']);
    expect(result.issues).toEqual([
      {
        file: 'jobs/broken.ts',
        path: '(file)',
        problem: 'does not compile: jobs/broken.ts:2:38: Expected "}" but found "task"',
        fix: [
          'correct the code at jobs/broken.ts:2:38:',
          "  2 │ export default defineJob({ name: 'x' task: { image: 'x' } });",
          '    │                                      ^~~~',
        ].join('\n'),
      },
    ]);
  });

  it('puts a syntax error in an imported helper at its own place, on the job file that imports it', async () => {
    const root = project({
      'jobs/_shared.ts': `export const IMAGE = 'x';\nexport const CPU = ;\n`,
      'jobs/uses.ts': `import { defineJob } from 'berth';\nimport { IMAGE } from './_shared.js';\nexport default defineJob({ name: 'uses', task: { image: IMAGE } });\n`,
    });
    const result = await loadJobs({ strategy, root });
    expect(result.issues.map(formatJobIssue)).toEqual([
      'jobs/uses.ts: (file): does not compile: jobs/_shared.ts:2:20: Unexpected ";" — correct the code at jobs/_shared.ts:2:20:\n  2 │ export const CPU = ;\n    │                    ^',
    ]);
  });

  it('names every file that shares a job name, in nested folders too', async () => {
    const root = project({
      'jobs/report.ts': jobFile(validJob('report')),
      'jobs/team/report.ts': jobFile(validJob('report')),
      'jobs/other.ts': jobFile(validJob('other')),
    });
    const result = await loadJobs({ strategy, root });
    expect(result.issues.map(formatJobIssue)).toEqual([
      "jobs/report.ts: name: job name 'report' is also used by jobs/team/report.ts — give each job a unique name",
      "jobs/team/report.ts: name: job name 'report' is also used by jobs/report.ts — give each job a unique name",
    ]);
  });

  it("skips helpers (_-prefixed), tests and declarations, and resolves a job's own imports", async () => {
    const root = project({
      'jobs/_shared.ts': `export const IMAGE = 'public.ecr.aws/docker/library/node:22-alpine';\n`,
      'jobs/_lib/util.ts': `throw new Error('never imported');\n`,
      'jobs/uses-helper.ts': `import { defineJob } from 'berth';\nimport { IMAGE } from './_shared.js';\nexport default defineJob({ name: 'uses-helper', task: { image: IMAGE } });\n`,
      'jobs/uses-helper.test.ts': `throw new Error('a test file');\n`,
      'jobs/types.d.ts': `export type X = 1;\n`,
      'jobs/notes.md': `# not a job\n`,
    });
    expect(findJobFiles(join(root, 'jobs')).map((f) => f.slice(root.length + 1))).toEqual([
      'jobs/uses-helper.ts',
    ]);
    const result = await loadJobs({ strategy, root });
    expect(result.issues).toEqual([]);
    expect(result.jobs[0]?.task.image).toBe('public.ecr.aws/docker/library/node:22-alpine');
  });

  it('honours a custom jobs folder', async () => {
    const root = project({ 'batch/one.ts': jobFile(validJob('one')) });
    const result = await loadJobs({ strategy, root, jobsDir: 'batch' });
    expect(result.jobs.map((j) => j.file)).toEqual(['batch/one.ts']);
  });

  it('fails with a fix when the jobs folder is missing', async () => {
    const root = project({});
    await expect(loadJobs({ strategy, root, jobsDir: 'nope' })).rejects.toThrow(BerthError);
    await expect(loadJobs({ strategy, root, jobsDir: 'nope' })).rejects.toThrow(
      /cannot read the jobs folder — create it or set custom.berth.jobsDir/,
    );
  });

  it('an empty jobs folder loads no jobs and no problems', async () => {
    const root = project({});
    expect(readdirSync(join(root, 'jobs'))).toEqual([]);
    expect(await loadJobs({ strategy, root })).toEqual({ jobs: [], issues: [], files: [] });
  });
});

describe('loadJobs: the bundle', () => {
  it('auto bundles a large project and still reports each file on its own', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`jobs/j${String(i).padStart(2, '0')}.ts`] = jobFile(validJob(`j${i}`));
    files['jobs/j07.ts'] = `throw new Error('seven is broken');\n`;
    files['jobs/j08.ts'] = `export const nothing = 1;\n`;
    const root = project(files);
    const result = await loadJobs({ root });
    expect(result.jobs).toHaveLength(38);
    expect(result.issues.map(formatJobIssue)).toEqual([
      `jobs/j07.ts: (file): throws on import: seven is broken — ${IMPORT_FIX}`,
      'jobs/j08.ts: (file): has no default export — end the file with export default defineJob({ ... }), or prefix helper files with _',
    ]);
  });

  it('resolves packages and node builtins from the job folder', async () => {
    const root = project({
      'jobs/uses-packages.ts': `import { join } from 'node:path';\nimport { z } from 'zod';\nimport { defineJob } from 'berth';\nexport default defineJob({ name: z.string().parse('uses-packages'), task: { image: join('img', 'x') } });\n`,
    });
    const result = await loadJobs({ root, strategy: 'bundle' });
    expect(result.issues).toEqual([]);
    expect(result.jobs[0]?.task.image).toBe('img/x');
  });

  it("a job file may use any of berth's exports (the bundle carries the part of berth each file uses)", async () => {
    const root = project({
      'jobs/uses-exports.ts': `import { defineJob, NO_RETRY_EXIT_CODE, EVENT_TYPES, defineSubscriber } from 'berth';\nexport default defineJob({ name: 'uses-exports', description: [NO_RETRY_EXIT_CODE, Object.keys(EVENT_TYPES).length > 0, typeof defineSubscriber].join(' '), task: { image: 'x' } });\n`,
    });
    for (const strategy of ['bundle', 'per-file'] as const) {
      const result = await loadJobs({ root, strategy });
      expect(result.issues).toEqual([]);
      expect(result.jobs[0]?.description).toBe(`${NO_RETRY_EXIT_CODE} true function`);
    }
  });

  it('falls back to file-by-file import for a file that reads import.meta', async () => {
    const root = project({
      'jobs/meta.ts': `import { defineJob } from 'berth';\nexport default defineJob({ name: 'meta', description: new URL(import.meta.url).pathname.split('/').pop(), task: { image: 'x' } });\n`,
    });
    const result = await loadJobs({ root, strategy: 'bundle' });
    expect(result.jobs[0]?.description).toBe('meta.ts');
  });

  it('sees a file edited since the last load (berth dev reloads)', async () => {
    const root = project({ 'jobs/edit.ts': jobFile(validJob('edit', { description: 'before' })) });
    expect((await loadJobs({ root, strategy: 'bundle' })).jobs[0]?.description).toBe('before');
    writeFileSync(join(root, 'jobs/edit.ts'), jobFile(validJob('edit', { description: 'after' })));
    expect((await loadJobs({ root, strategy: 'bundle' })).jobs[0]?.description).toBe('after');
  });
});

describe('loadJobsOrThrow', () => {
  it('throws one JobValidationError holding every issue, and returns no jobs', async () => {
    const root = project({
      'jobs/good.ts': jobFile(validJob('good')),
      'jobs/bad-a.ts': jobFile(validJob('Bad')),
      'jobs/bad-b.ts': jobFile(validJob('ok', { timeout: 'later' })),
    });
    const error = await loadJobsOrThrow({ root }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobValidationError);
    const issues = (error as JobValidationError).issues;
    expect(issues.map((i) => `${i.file} ${i.path}`)).toEqual(['jobs/bad-a.ts name', 'jobs/bad-b.ts timeout']);
    expect((error as Error).message.split('\n')).toHaveLength(2);
  });

  it('returns the jobs when all are valid', async () => {
    const root = project({ 'jobs/good.ts': jobFile(validJob('good')) });
    expect((await loadJobsOrThrow({ root })).map((j) => j.name)).toEqual(['good']);
  });
});
