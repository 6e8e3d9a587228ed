import type { z } from 'zod';
import { type JobIssue, splitProblemFix } from '../errors.js';
import { DEFAULT_TIMEOUT, type Job, type JobInput, jobSchemaChecked, normalizeTriggers } from './job.js';

const DEFAULT_FIX = 'see the job reference in docs/jobs.md';

function pathText(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(job)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

const A_TYPE: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

/**
 * zod's own messages ("Too big: expected number to be <=10") name neither the value nor the fix. Messages
 * the schema wrote itself already hold `problem — fix`; the rest are rewritten here from the issue and the
 * value the user gave.
 */
function messageOf(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.message.includes(' — ')) return issue.message;
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case 'invalid_key': {
      const inner = issue.issues[0]?.message;
      if (inner?.includes(' — ')) return inner;
      return `the key is not allowed — ${DEFAULT_FIX}`;
    }
    case 'too_big':
    case 'too_small': {
      const big = issue.code === 'too_big';
      const bound = big ? issue.maximum : issue.minimum;
      const op = big
        ? issue.inclusive
          ? 'at most'
          : 'less than'
        : issue.inclusive
          ? 'at least'
          : 'more than';
      if (issue.origin === 'number') {
        return `is ${String(value)}, ${big ? 'above' : 'below'} the ${big ? 'maximum' : 'minimum'} of ${String(bound)} — use ${op} ${String(bound)}`;
      }
      if (issue.origin === 'string') {
        const length = typeof value === 'string' ? value.length : 0;
        return `is ${length} characters long — use ${op} ${String(bound)} characters`;
      }
      if (issue.origin === 'array') {
        const length = Array.isArray(value) ? value.length : 0;
        return `has ${length} item${length === 1 ? '' : 's'} — give ${op} ${String(bound)}`;
      }
      return `is out of range — use ${op} ${String(bound)}`;
    }
    case 'invalid_type': {
      const expected = A_TYPE[issue.expected] ?? issue.expected;
      if (
        issue.expected === 'number' &&
        typeof value === 'string' &&
        value.trim() !== '' &&
        !Number.isNaN(Number(value))
      ) {
        return `expected a number, got ${shown(value)} — write ${value} without quotes`;
      }
      if (value === undefined) return `is missing — give ${expected}`;
      return `expected ${expected}, got ${shown(value)} — write ${expected}`;
    }
    case 'not_multiple_of':
      return `is ${String(value)}, not a multiple of ${String(issue.divisor)} — use a multiple of ${String(issue.divisor)}`;
    default:
      return issue.message;
  }
}

/** Turns zod issues into berth issues: `file: path: problem — fix`. */
export function issuesFromZod(error: z.ZodError, file: string, input?: unknown): JobIssue[] {
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
        const { problem, fix } = splitProblemFix(
          messageOf({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, input),
          DEFAULT_FIX,
        );
        out.push({ file, path: pathText([...issue.path, ...inner.path]), problem, fix });
      }
      continue;
    }
    const { problem, fix } = splitProblemFix(messageOf(issue, input), DEFAULT_FIX);
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
  if (!parsed.success) return { ok: false, issues: issuesFromZod(parsed.error, file, input) };
  const { trigger, ...rest } = parsed.data;
  return {
    ok: true,
    job: { ...rest, timeout: rest.timeout ?? DEFAULT_TIMEOUT, triggers: normalizeTriggers(trigger), file },
  };
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
