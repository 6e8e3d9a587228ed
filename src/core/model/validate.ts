import type { z } from 'zod';
import { type JobIssue, splitProblemFix } from '../errors.js';
import { type Job, type JobInput, jobSchemaChecked, normalizeTriggers } from './job.js';

const DEFAULT_FIX = 'see the job reference in README.md';

function pathText(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(job)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

/** Turns zod issues into berth issues: `file: path: problem — fix`. */
export function issuesFromZod(error: z.ZodError, file: string): JobIssue[] {
  const out: JobIssue[] = [];
  for (const issue of error.issues) {
    // Unions report one issue per branch; the deepest branch says the most, so follow it.
    if (
      issue.code === 'invalid_union' &&
      'errors' in issue &&
      Array.isArray(issue.errors) &&
      issue.errors.length
    ) {
      const branches = issue.errors as z.core.$ZodIssue[][];
      const best = branches.reduce((a, b) => (depth(b) > depth(a) ? b : a));
      for (const inner of best) {
        const { problem, fix } = splitProblemFix(inner.message, DEFAULT_FIX);
        out.push({ file, path: pathText([...issue.path, ...inner.path]), problem, fix });
      }
      continue;
    }
    const { problem, fix } = splitProblemFix(issue.message, DEFAULT_FIX);
    out.push({ file, path: pathText(issue.path), problem, fix });
  }
  return out;
}

function depth(issues: z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 1)));
}

export type ValidateResult = { ok: true; job: Job } | { ok: false; issues: JobIssue[] };

/** Validates one job definition. Pure: the caller says which file it came from. */
export function validateJob(input: unknown, file: string): ValidateResult {
  const parsed = jobSchemaChecked.safeParse(input);
  if (!parsed.success) return { ok: false, issues: issuesFromZod(parsed.error, file) };
  const { trigger, ...rest } = parsed.data;
  return { ok: true, job: { ...rest, triggers: normalizeTriggers(trigger), file } };
}

/** Checks a list of jobs for duplicate names, naming every file involved. */
export function findDuplicateNames(jobs: readonly Pick<Job, 'name' | 'file'>[]): JobIssue[] {
  const byName = new Map<string, string[]>();
  for (const job of jobs) byName.set(job.name, [...(byName.get(job.name) ?? []), job.file]);
  const issues: JobIssue[] = [];
  for (const [name, files] of byName) {
    if (files.length < 2) continue;
    for (const file of files) {
      issues.push({
        file,
        path: 'name',
        problem: `job name '${name}' is also used by ${files.filter((f) => f !== file).join(', ')}`,
        fix: 'give each job a unique name',
      });
    }
  }
  return issues;
}

export type { JobInput };
