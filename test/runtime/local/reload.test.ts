/**
 * Reload on change (`berth dev` live to edits): the merge rules, and an engine whose job and subscriber
 * files are edited, added, broken, fixed and removed while it runs.
 */
import { describe, expect, it } from 'vitest';
import type { JobIssue } from '../../../src/core/errors.js';
import type { Job } from '../../../src/core/model/job.js';
import { validateJob } from '../../../src/core/model/validate.js';
import { diffJobs, mergeJobs } from '../../../src/runtime/local/reload.js';

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
