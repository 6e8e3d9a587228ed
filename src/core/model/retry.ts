import { z } from 'zod';
import { tryParseDuration } from '../duration.js';
import { OUTCOME_CLASSES } from '../lifecycle/states.js';
import { duration, strictObject } from './common.js';

const exitCodeMatcher = z.union([
  z.number().int(),
  z.array(z.number().int()).min(1),
  strictObject({ from: z.number().int(), to: z.number().int() }),
]);
const outcomeClass = z.enum(OUTCOME_CLASSES, {
  error: `unknown outcome class — use one of ${OUTCOME_CLASSES.join(', ')}`,
});

/**
 * One retry rule. All conditions given must match (AND); the first matching rule decides.
 * @example { onExitCode: [2, 3], action: 'fail' }
 * @example { onReason: 'CannotPullContainerError*manifest unknown*', action: 'fail' }
 */
export const retryRuleSchema = strictObject({
  /** Exit codes of the essential container: one number, a list, or `{ from, to }`. */
  onExitCode: exitCodeMatcher.optional(),
  /** Outcome classes (one or a list): succeeded, app_error, oom, start_failure, spot_interrupted, timed_out, cancelled, lost. */
  onOutcome: z.union([outcomeClass, z.array(outcomeClass).min(1)]).optional(),
  /** ECS stop codes (one or a list), e.g. `TaskFailedToStart`, `SpotInterruption`. */
  onStopCode: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** Glob on the stop reason or container reason (`*` any text, `?` one character), case-sensitive. */
  onReason: z.string().min(1).optional(),
  /** What to do when the rule matches. */
  action: z.enum(['retry', 'fail'], { error: `unknown action — use 'retry' or 'fail'` }),
});

const backoffFields = strictObject({
  /** Delay before the second attempt. @default '10s' */
  minDelay: duration({ minMs: 0 }).default('10s'),
  /** Cap on any one delay. @default '5m' */
  maxDelay: duration({ minMs: 0 }).default('5m'),
  /** Growth per retry: the k-th retry waits minDelay · factor^(k−1), capped at maxDelay. @default 2 */
  factor: z.number().min(1).max(10).default(2),
  /**
   * Random reduction applied after the cap, as a fraction of the delay (0 = none, 1 = full jitter).
   * @default 0.2
   */
  jitter: z.number().min(0).max(1).default(0.2),
});

/** The backoff, with `minDelay` ≤ `maxDelay` (a larger minimum would silently be capped to the maximum). */
export const backoffSchema = backoffFields.superRefine((b, ctx) => {
  const min = tryParseDuration(b.minDelay);
  const max = tryParseDuration(b.maxDelay);
  if (min !== undefined && max !== undefined && min > max) {
    ctx.addIssue({
      code: 'custom',
      path: ['minDelay'],
      message: `minDelay ${b.minDelay} is longer than maxDelay ${b.maxDelay} (every delay is capped at maxDelay${b.maxDelay === '5m' ? ', 5m by default' : ''}) — raise maxDelay or lower minDelay`,
    });
  }
});

export const retrySchema = strictObject({
  /** Attempts in all, counting the first. 1 disables retries. @default 3 */
  maxAttempts: z
    .number()
    .int()
    .min(1, { error: 'is below 1, but it counts the first attempt — use 1 for no retries, or more to retry' })
    .max(100, { error: 'is above 100 — use at most 100, or a retry budget to bound the time instead' })
    .default(3),
  backoff: backoffSchema.default({ minDelay: '10s', maxDelay: '5m', factor: 2, jitter: 0.2 }),
  /** Ordered rules checked before the defaults; the first match decides. */
  rules: z.array(retryRuleSchema).default([]),
  /** Total retry budget from the run's creation: a retry that would start after it fails the run now. */
  budget: duration({ minMs: 1000 }).optional(),
});

export type RetryRuleInput = z.input<typeof retryRuleSchema>;
export type RetryRule = z.output<typeof retryRuleSchema>;
export type RetryInput = z.input<typeof retrySchema>;
export type RetryPolicy = z.output<typeof retrySchema>;
export type Backoff = z.output<typeof backoffSchema>;
