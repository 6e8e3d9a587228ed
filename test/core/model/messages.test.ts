/**
 * Walks every branch of the job schema (and of custom.berth): every field, at every depth, given every kind of
 * wrong value. No message may carry zod's own wording: each reads like berth's, `problem — fix`.
 */

import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { checkConfig } from '../../../src/compiler/checks.js';
import { berthConfigSchema } from '../../../src/compiler/config.js';
import type { JobIssue } from '../../../src/core/errors.js';
import { jobSchema } from '../../../src/core/model/job.js';
import { validateJob } from '../../../src/core/model/validate.js';

/** zod's default wording, in any of its forms. */
const ZOD_WORDING = [
  /expected .*, received/i,
  /\bInvalid (input|option|string|email|url|key|element|union)\b/,
  /\bToo (big|small)\b/,
  /\b(too_small|too_big|invalid_type|invalid_value|invalid_format|invalid_union|unrecognized_keys|not_multiple_of)\b/,
  /Unrecognized key/,
  /\bgot (number|string|boolean|object|undefined|null)\b/,
  /\bexpected (int|number|string|boolean|array|object|nonoptional)\b/,
  /\breceived (number|string|boolean|object|undefined|null|NaN|Infinity)\b/,
  /must match pattern/,
  /\bexpected array to have\b/,
];

const WRONG: unknown[] = [
  undefined,
  42,
  2.5,
  -1,
  0,
  1e12,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  'text',
  '',
  '  ',
  true,
  null,
  [],
  [42],
  ['text'],
  {},
  { zzz: 1 },
  () => 1,
];

type Path = (string | number)[];

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Every path a value can be given at (object keys, list items, record values), following every branch. */
function paths(schema: z.ZodType, at: Path, out: Path[], depth = 0): void {
  if (depth > 12) return;
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      paths(def.innerType as z.ZodType, at, out, depth);
      return;
    case 'pipe':
      paths(def.in as z.ZodType, at, out, depth);
      return;
    case 'lazy':
      // JSON values (the payload): any value is fine; one level shows the branch is walked.
      if (depth < 6) paths((def.getter as () => z.ZodType)(), at, out, depth + 3);
      return;
    case 'object':
      for (const [key, value] of Object.entries(def.shape ?? {})) {
        out.push([...at, key]);
        paths(value, [...at, key], out, depth + 1);
      }
      return;
    case 'array':
      out.push([...at, 0]);
      paths(def.element as z.ZodType, [...at, 0], out, depth + 1);
      return;
    case 'record':
      out.push([...at, 'SOME_KEY']);
      out.push([...at, 'bad key!']);
      paths(def.valueType as z.ZodType, [...at, 'SOME_KEY'], out, depth + 1);
      return;
    case 'union':
      for (const option of def.options ?? []) paths(option, at, out, depth + 1);
      return;
    default:
      return;
  }
}

function withValueAt(base: unknown, path: Path, value: unknown): unknown {
  const root = structuredClone(base) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = root;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    const wantArray = typeof path[i + 1] === 'number';
    if (next === null || typeof next !== 'object' || Array.isArray(next) !== wantArray) {
      node[key] = wantArray ? [] : {};
    }
    node = node[key] as Record<string | number, unknown>;
  });
  return root;
}

const unique = (list: Path[]) => [...new Map(list.map((p) => [p.join('\u0000'), p])).values()];

function assertBerthWording(issues: JobIssue[], where: string): void {
  for (const issue of issues) {
    const text = `${issue.path}: ${issue.problem} — ${issue.fix}`;
    for (const pattern of ZOD_WORDING) {
      if (pattern.test(text)) throw new Error(`${where} → ${text} (matches zod's wording ${pattern})`);
    }
    expect(issue.problem.trim(), `${where} → ${text}`).not.toBe('');
    expect(issue.fix.trim(), `${where} → ${text}`).not.toBe('');
  }
}

describe('no zod wording in any message: every branch, every wrong value', () => {
  const base = {
    name: 'walk',
    task: { image: 'public.ecr.aws/docker/library/node:22-alpine' },
  };

  it('the job schema', () => {
    const all = unique(
      (() => {
        const out: Path[] = [];
        paths(jobSchema as unknown as z.ZodType, [], out);
        return out;
      })(),
    );
    // The walk reaches the deep branches (a sanity check that it walks at all).
    const joined = all.map((p) => p.join('.'));
    for (const deep of [
      'trigger.queue.service.windows.0.cron',
      'trigger.schedule.0.startDate',
      'trigger.s3.0.events.0',
      'task.permissions.0.conditions.SOME_KEY.SOME_KEY',
      'retry.rules.0.onExitCode.from',
      'task.build.entry',
      'notify.email.0',
      'task.secrets.bad key!',
    ]) {
      expect(joined).toContain(deep);
    }
    expect(all.length).toBeGreaterThan(100);
    let checked = 0;
    for (const path of all) {
      for (const value of WRONG) {
        const input = withValueAt(base, path, value);
        const result = validateJob(input, 'jobs/walk.ts');
        if (!result.ok) assertBerthWording(result.issues, `${path.join('.')} = ${String(value)}`);
        checked++;
      }
    }
    // The whole definition given as each wrong value, too.
    for (const value of WRONG) {
      const result = validateJob(value, 'jobs/walk.ts');
      expect(result.ok).toBe(false);
      if (!result.ok) assertBerthWording(result.issues, `(job) = ${String(value)}`);
    }
    expect(checked).toBe(all.length * WRONG.length);
  });

  it('custom.berth', () => {
    const out: Path[] = [];
    paths(berthConfigSchema as unknown as z.ZodType, [], out);
    const all = unique(out);
    expect(all.length).toBeGreaterThan(30);
    for (const path of all) {
      for (const value of WRONG) {
        const { issues } = checkConfig(withValueAt({}, path, value));
        assertBerthWording(issues, `custom.berth.${path.join('.')} = ${String(value)}`);
      }
    }
  });

  it('the old leaks are gone: a whole number, a string name, an enum', () => {
    const messages = (input: unknown) => {
      const r = validateJob(input, 'jobs/x.ts');
      return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.problem} — ${i.fix}`);
    };
    expect(messages({ ...base, maxConcurrency: 2.5 })).toEqual([
      'maxConcurrency: is 2.5, but must be a whole number — write a whole number, like 3',
    ]);
    expect(messages({ ...base, name: 42 })).toEqual([
      "name: must be a string, not 42 — write the name in quotes, like 'resize-images'",
    ]);
    expect(messages({ ...base, name: undefined })).toEqual([
      "name: is missing — give the job a stable name such as 'resize-images'",
    ]);
    expect(
      messages({
        ...base,
        task: {
          ...base.task,
          permissions: [{ effect: 'Maybe', actions: ['s3:GetObject'], resources: ['*'] }],
        },
      }),
    ).toEqual([
      `task.permissions[0].effect: is the text "Maybe", not one of 'Allow', 'Deny' — use one of 'Allow', 'Deny'`,
    ]);
  });
});
