import { z } from 'zod';
import { type Duration, tryParseDuration } from '../duration.js';

/**
 * A strict object: unknown keys fail with a message that lists the allowed keys.
 * Every option object of the job API is built with it, so typos never pass silently.
 */
export function strictObject<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        const keys = (issue as { keys: string[] }).keys;
        return `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')} — allowed keys are: ${allowed}`;
      }
      if (issue.code === 'invalid_type') {
        const given = (issue as { input?: unknown }).input;
        return `${given === undefined ? 'is missing' : 'must be an object'} — write { ${allowed} } (see the job reference in docs/jobs.md)`;
      }
      return undefined;
    },
  });
}

/** A duration string such as `'30s'`, `'15m'`, `'2h'`. */
export function duration(options: { minMs?: number; maxMs?: number } = {}) {
  return z
    .string({
      error: (issue) =>
        `${issue.input === undefined ? 'is missing' : `must be a duration in quotes, not ${typeof issue.input === 'object' ? 'an object' : String(issue.input)}`} — write a number and a unit in quotes: '30s', '15m', '2h'`,
    })
    .superRefine((text, ctx) => {
      const ms = tryParseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `"${text}" is not a duration — write a number and a unit: '500ms', '30s', '15m', '2h' or '1d'`,
        });
        return;
      }
      if (options.minMs !== undefined && ms < options.minMs) {
        ctx.addIssue({
          code: 'custom',
          message: `${text} is too short — use at least ${formatMs(options.minMs)}`,
        });
      }
      if (options.maxMs !== undefined && ms > options.maxMs) {
        ctx.addIssue({
          code: 'custom',
          message: `${text} is too long — use at most ${formatMs(options.maxMs)}`,
        });
      }
    }) as unknown as z.ZodType<Duration, Duration>;
}

function formatMs(ms: number): string {
  if (ms % 86_400_000 === 0) return `'${ms / 86_400_000}d'`;
  if (ms % 3_600_000 === 0) return `'${ms / 3_600_000}h'`;
  if (ms % 60_000 === 0) return `'${ms / 60_000}m'`;
  if (ms % 1000 === 0) return `'${ms / 1000}s'`;
  return `'${ms}ms'`;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export const jsonValue: z.ZodType<Json> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);
