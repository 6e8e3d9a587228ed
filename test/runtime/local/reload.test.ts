/**
 * Reload on change (`berth dev` live to edits): the merge rules, and an engine whose job and subscriber
 * files are edited, added, broken, fixed and removed while it runs.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobIssue } from '../../../src/core/errors.js';
import type { Job } from '../../../src/core/model/job.js';
import { validateJob } from '../../../src/core/model/validate.js';
import { putObject } from '../../../src/runtime/local/buckets.js';
import { LocalEngine } from '../../../src/runtime/local/engine.js';
import { diffJobs, mergeJobs } from '../../../src/runtime/local/reload.js';
import { cleanup, makeProject, waitFor } from './harness.js';

function jobOf(name: string, file: string, extra: Record<string, unknown> = {}): Job {
  const r = validateJob({ name, task: { image: 'x', local: { command: ['true'] } }, ...extra }, file);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.job;
}

const issue = (file: string): JobIssue => ({
  file,
  path: 'timeout',
  problem: 'is not a duration',
  fix: "write '5m'",
});

describe('mergeJobs / diffJobs', () => {
  it('takes a valid set as it is', () => {
    const a = jobOf('a', 'jobs/a.ts');
    const b2 = jobOf('b', 'jobs/b.ts', { timeout: '2m' });
    const merged = mergeJobs([a, jobOf('b', 'jobs/b.ts')], { jobs: [a, b2], issues: [] });
    expect(merged.jobs).toEqual([a, b2]);
    expect(merged.problems).toEqual([]);
  });

  it('keeps the last good version of a file with a problem, applies the other files, adds nothing new that is broken', () => {
    const a = jobOf('a', 'jobs/a.ts');
    const b = jobOf('b', 'jobs/b.ts');
    const a2 = jobOf('a', 'jobs/a.ts', { timeout: '3m' });
    const merged = mergeJobs([a, b], { jobs: [a2], issues: [issue('jobs/b.ts'), issue('jobs/new.ts')] });
    expect(merged.jobs).toEqual([a2, b]);
    expect(merged.problems.map((p) => p.file)).toEqual(['jobs/b.ts', 'jobs/new.ts']);
  });

  it('keeps the whole previous set when merging would give two jobs one name', () => {
    const a = jobOf('a', 'jobs/a.ts');
    const b = jobOf('b', 'jobs/b.ts');
    // b.ts is broken now, and a new file c.ts took the name b.
    const c = jobOf('b', 'jobs/c.ts');
    const merged = mergeJobs([a, b], { jobs: [a, c], issues: [issue('jobs/b.ts')] });
    expect(merged.jobs).toEqual([a, b]);
  });

  it('names what a new set adds, removes and changes', () => {
    const a = jobOf('a', 'jobs/a.ts');
    const b = jobOf('b', 'jobs/b.ts');
    const c = jobOf('c', 'jobs/c.ts');
    expect(diffJobs([a, b], [jobOf('a', 'jobs/a.ts', { timeout: '9m' }), c])).toEqual({
      added: ['c'],
      removed: ['b'],
      changed: ['a'],
    });
    expect(diffJobs([a], [jobOf('a', 'jobs/a.ts')])).toEqual({ added: [], removed: [], changed: [] });
  });
});

/** A job whose command appends `<tag>` to versions.log in the project. */
function versionJob(name: string, tag: string, rest = ''): string {
  return `import { defineJob } from 'berth';
export default defineJob({ name: '${name}', ${rest} task: { image: 'x', local: { command: ['sh', '-c', 'echo ${tag} >> versions.log'] } } });
`;
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
}

describe('berth dev reloads job and subscriber files while it runs (in-process engine)', () => {
  let project: string;
  let engine: LocalEngine;
  const log: string[] = [];
  const succeeded: string[] = [];

  beforeAll(async () => {
    project = makeProject('reload', {});
    writeFileSync(join(project, 'jobs/a.ts'), versionJob('a', 'a-v1'));
    engine = await LocalEngine.start({ root: project, port: 0, driver: 'process', log: (l) => log.push(l) });
    engine.subscribe((e) => {
      if (e.type === 'outcome' && e.event['detail-type'] === 'Job Run Succeeded')
        succeeded.push(e.event.detail.runId);
    });
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
    cleanup(project);
  });

  const runOnce = async (job: string) => {
    const r = await engine.invoke(job);
    if (r.status !== 'accepted') throw new Error(JSON.stringify(r));
    await waitFor(
      () => succeeded.includes(r.runId),
      15_000,
      () => log.join('\n'),
    );
  };
  const command = (job: string) =>
    engine
      .jobs()
      .find((j) => j.name === job)
      ?.task.local?.command.join(' ');
  const health = async () =>
    (await (await fetch(`${engine.info.url}/api/health`)).json()) as {
      jobs: string[];
      problems: { message: string }[];
    };

  it('a valid edit replaces the job for new runs within a second of the save', async () => {
    await runOnce('a');
    const t0 = Date.now();
    writeFileSync(join(project, 'jobs/a.ts'), versionJob('a', 'a-v2'));
    await waitFor(
      () => command('a')?.includes('a-v2'),
      5000,
      () => log.join('\n'),
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    await runOnce('a');
    expect(lines(join(project, 'versions.log'))).toEqual(['a-v1', 'a-v2']);
    expect(log.some((l) => l.includes('jobs reloaded: changed a'))).toBe(true);
  });

  it('an invalid edit keeps the last good version and shows the error until a save fixes it', async () => {
    writeFileSync(join(project, 'jobs/a.ts'), versionJob('a', 'a-v3', `timeout: 'soon',`));
    await waitFor(
      () => engine.loadProblems().length > 0,
      5000,
      () => log.join('\n'),
    );
    const problem = engine.loadProblems()[0]?.message ?? '';
    expect(problem).toMatch(/^jobs\/a\.ts: timeout: /);
    expect(
      log.some((l) => l.startsWith('✖ jobs/a.ts: timeout') && l.includes('keeping the last good version')),
    ).toBe(true);
    expect((await health()).problems.map((p) => p.message)).toEqual([problem]);
    const page = await (await fetch(`${engine.info.url}/`)).text();
    expect(page).toContain('class="load-problems"');
    expect(page).toContain('jobs/a.ts: timeout');
    // The last good version (v2) still runs.
    await runOnce('a');
    expect(lines(join(project, 'versions.log')).at(-1)).toBe('a-v2');

    writeFileSync(join(project, 'jobs/a.ts'), versionJob('a', 'a-v4'));
    await waitFor(
      () => engine.loadProblems().length === 0 && command('a')?.includes('a-v4'),
      5000,
      () => log.join('\n'),
    );
    expect((await health()).problems).toEqual([]);
    expect(await (await fetch(`${engine.info.url}/`)).text()).not.toContain('class="load-problems"');
    await runOnce('a');
    expect(lines(join(project, 'versions.log')).at(-1)).toBe('a-v4');
  });

  it('an added job runs, a bucket prefix change applies to the next file, a removed job stops triggering', async () => {
    writeFileSync(
      join(project, 'jobs/up.ts'),
      versionJob('up', 'up-old', `trigger: { s3: { bucket: 'uploads', prefix: 'in/' } },`),
    );
    writeFileSync(
      join(project, 'jobs/tick.ts'),
      versionJob('tick', 'tick', `trigger: { schedule: { expression: 'rate(5 minutes)' } },`),
    );
    await waitFor(
      () => command('up') && command('tick'),
      5000,
      () => log.join('\n'),
    );
    expect(engine.nextFireTimes('tick', 1)).toHaveLength(1);
    expect((await health()).jobs).toEqual(['a', 'tick', 'up']);
    writeFileSync(join(project, 'payload.txt'), 'x');
    putObject(engine.paths.buckets, 'uploads', join(project, 'payload.txt'), 'in/1.txt');
    await waitFor(
      () => lines(join(project, 'versions.log')).includes('up-old'),
      10_000,
      () => log.join('\n'),
    );

    writeFileSync(
      join(project, 'jobs/up.ts'),
      versionJob('up', 'up-new', `trigger: { s3: { bucket: 'uploads', prefix: 'new/' } },`),
    );
    await waitFor(
      () => command('up')?.includes('up-new'),
      5000,
      () => log.join('\n'),
    );
    putObject(engine.paths.buckets, 'uploads', join(project, 'payload.txt'), 'in/2.txt');
    putObject(engine.paths.buckets, 'uploads', join(project, 'payload.txt'), 'new/3.txt');
    await waitFor(
      () => lines(join(project, 'versions.log')).includes('up-new'),
      10_000,
      () => log.join('\n'),
    );

    rmSync(join(project, 'jobs/up.ts'));
    rmSync(join(project, 'jobs/tick.ts'));
    await waitFor(
      () => !command('up') && !command('tick'),
      5000,
      () => log.join('\n'),
    );
    expect(engine.nextFireTimes('tick', 1)).toEqual([]);
    putObject(engine.paths.buckets, 'uploads', join(project, 'payload.txt'), 'new/4.txt');
    await new Promise((r) => setTimeout(r, 1500));
    // One run for in/1.txt (old prefix), one for new/3.txt (new prefix); none for in/2.txt or after removal.
    expect(lines(join(project, 'versions.log')).filter((l) => l.startsWith('up-'))).toEqual([
      'up-old',
      'up-new',
    ]);
    await expect(engine.invoke('up')).rejects.toThrow(/no such job/);
  }, 60_000);

  it('subscribers: an added one runs on events, a broken one is reported and the last good set kept', async () => {
    mkdirSync(join(project, 'subscribers'), { recursive: true });
    const sub = (tag: string) => `import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineSubscriber } from '../../../src/subscriber/index.ts';
export default defineSubscriber({ on: ['Job Run Succeeded'] }, async () => {
  appendFileSync(join(${JSON.stringify(project)}, 'subs.log'), '${tag}\\n');
});
`;
    writeFileSync(join(project, 'subscribers/note.ts'), sub('one'));
    await waitFor(
      () => engine.subscriberNames.includes('note'),
      5000,
      () => log.join('\n'),
    );
    await runOnce('a');
    await waitFor(() => lines(join(project, 'subs.log')).length === 1, 5000);
    // An edit of the same file is imported afresh.
    writeFileSync(join(project, 'subscribers/note.ts'), sub('two'));
    await waitFor(
      () => log.filter((l) => l === '↻ subscribers reloaded').length >= 2,
      5000,
      () => log.join('\n'),
    );
    await runOnce('a');
    await waitFor(() => lines(join(project, 'subs.log')).length === 2, 5000);
    expect(lines(join(project, 'subs.log'))).toEqual(['one', 'two']);

    writeFileSync(join(project, 'subscribers/bad.ts'), 'export default 42;\n');
    await waitFor(
      () => engine.loadProblems().some((p) => p.kind === 'subscribers'),
      5000,
      () => log.join('\n'),
    );
    expect(engine.loadProblems()[0]?.message).toMatch(/^subscribers\/bad\.ts: /);
    await runOnce('a');
    await waitFor(() => lines(join(project, 'subs.log')).length === 3, 5000);

    rmSync(join(project, 'subscribers/bad.ts'));
    rmSync(join(project, 'subscribers/note.ts'));
    await waitFor(
      () => engine.loadProblems().length === 0 && engine.subscriberNames.length === 0,
      5000,
      () => log.join('\n'),
    );
    await runOnce('a');
    await new Promise((r) => setTimeout(r, 300));
    expect(lines(join(project, 'subs.log'))).toEqual(['one', 'two', 'two']);
  }, 60_000);
});
