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
    return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

const A_TYPE: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

/** How to write a value of the type berth expects. */
const WRITE_TYPE: Record<string, string> = {
  number: 'write a number, like 3',
  int: 'write a whole number, like 3',
  string: `put the text in quotes, like 'text'`,
  boolean: 'write true or false, without quotes',
  array: 'write a list, like [ ... ]',
  object: 'write an object, like { ... }',
};

const FORMAT: Record<string, string> = {
  email: 'an email address, like ops@example.com',
  url: 'a URL, like https://example.com',
  regex: 'the expected format',
};

/**
 * zod's own messages ("Invalid input: expected int, received number") name neither the value nor the fix, in
 * words unlike berth's. Messages the schema wrote itself already hold `problem — fix`; every other issue is
 * rewritten here from the issue and the value the user gave, so no zod wording reaches the user.
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
      const write = WRITE_TYPE[issue.expected] ?? DEFAULT_FIX;
      if (value === undefined) return `is missing — give ${expected}`;
      if (issue.expected === 'int' && typeof value === 'number') {
        return Number.isFinite(value)
          ? `is ${String(value)}, but must be a whole number — ${write}`
          : `is ${String(value)}, but must be a finite whole number — ${write}`;
      }
      if (issue.expected === 'number' && typeof value === 'number') {
        return `is ${String(value)}, but must be a finite number — ${write}`;
      }
      if (
        (issue.expected === 'number' || issue.expected === 'int') &&
        typeof value === 'string' &&
        value.trim() !== '' &&
        !Number.isNaN(Number(value))
      ) {
        return `must be ${expected}, not ${shown(value)} — write ${value} without quotes`;
      }
      return `must be ${expected}, not ${shown(value)} — ${write}`;
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
      if (values.length === 1) return `must be ${values[0]}, not ${shown(value)} — write ${values[0]}`;
      return `is ${shown(value)}, not one of ${values.join(', ')} — use one of ${values.join(', ')}`;
    }
    case 'invalid_format': {
      const format = FORMAT[issue.format] ?? `a ${issue.format}`;
      return `is ${shown(value)}, which is not ${format} — ${DEFAULT_FIX}`;
    }
    case 'unrecognized_keys': {
      const keys = issue.keys.map((k) => `'${k}'`).join(', ');
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys} — remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling`;
    }
    case 'not_multiple_of':
      return `is ${String(value)}, not a multiple of ${String(issue.divisor)} — use a multiple of ${String(issue.divisor)}`;
    case 'custom':
      return issue.message && issue.message !== 'Invalid input'
        ? issue.message
        : `is not valid (${shown(value)}) — ${DEFAULT_FIX}`;
    case 'invalid_union':
      return `is ${shown(value)}, which matches none of the accepted forms — ${DEFAULT_FIX}`;
    default:
      return `is not valid (${shown(value)}) — ${DEFAULT_FIX}`;
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
