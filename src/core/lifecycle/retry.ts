import { parseDuration } from '../duration.js';
import type { Backoff, RetryPolicy, RetryRule } from '../model/retry.js';
import { BERTH_STOP_REASONS, type Classification, NO_RETRY_EXIT_CODE } from './classify.js';
import { globMatch } from './glob.js';
import { type FinalRunStatus, finalStatusFor, type OutcomeClass } from './states.js';

/** Reason patterns of start failures that another attempt cannot fix (bad image tag, missing secret, IAM). */
export const PERMANENT_START_FAILURE_GLOBS = [
  '*manifest unknown*',
  '*not found*',
  '*AccessDenied*',
  '*does not exist*',
  '*pull access denied*',
  '*invalid reference format*',
  '*executable file not found*',
];

/**
 * The rules berth applies after the job's own rules. Written as data so the docs and the code agree.
 * Infrastructure failures and interruptions retry; the job's own failures retry too (like AWS Batch and
 * Trigger.dev), except for the final exit code, out-of-memory, timeouts and cancellations.
 */
export const DEFAULT_RETRY_RULES: readonly (RetryRule & { why: string })[] = [
  {
    onExitCode: NO_RETRY_EXIT_CODE,
    action: 'fail',
    why: `exit code ${NO_RETRY_EXIT_CODE} means "do not retry"`,
  },
  { onOutcome: 'cancelled', action: 'fail', why: 'a cancelled run stays cancelled' },
  { onOutcome: 'timed_out', action: 'fail', why: 'a timeout would likely repeat; add a rule to retry it' },
  {
    onOutcome: 'oom',
    action: 'fail',
    why: 'the same memory would run out again; raise task.memory or add a rule',
  },
  ...PERMANENT_START_FAILURE_GLOBS.map((glob) => ({
    onOutcome: 'start_failure' as const,
    onReason: glob,
    action: 'fail' as const,
    why: 'the image, secret or permission is wrong; another attempt cannot fix it',
  })),
  { onOutcome: 'start_failure', action: 'retry', why: 'infrastructure failures are transient' },
  { onOutcome: 'spot_interrupted', action: 'retry', why: 'Spot capacity was reclaimed' },
  { onOutcome: 'lost', action: 'retry', why: 'the task vanished without a recorded outcome' },
  { onOutcome: 'app_error', action: 'retry', why: 'application errors retry by default' },
];

function asArray<T>(value: T | readonly T[] | undefined): readonly T[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** Whether one rule matches an attempt. All given conditions must hold. */
export function ruleMatches(
  rule: RetryRule,
  attempt: Classification & { stopCode?: string | null; reasons?: string[] },
): boolean {
  if (rule.onExitCode !== undefined) {
    if (attempt.exitCode === null) return false;
    const code = attempt.exitCode;
    const m = rule.onExitCode;
    const ok =
      typeof m === 'number'
        ? code === m
        : Array.isArray(m)
          ? m.includes(code)
          : code >= (m as { from: number }).from && code <= (m as { to: number }).to;
    if (!ok) return false;
  }
  const outcomes = asArray<OutcomeClass>(rule.onOutcome);
  if (outcomes && !outcomes.includes(attempt.outcome)) return false;
  const stopCodes = asArray<string>(rule.onStopCode);
  if (stopCodes && !(attempt.stopCode && stopCodes.includes(attempt.stopCode))) return false;
  if (rule.onReason !== undefined) {
    const texts = [attempt.reason, ...(attempt.reasons ?? [])].filter((t): t is string => !!t);
    if (!texts.some((t) => globMatch(rule.onReason as string, t))) return false;
  }
  return true;
}

/** Backoff before attempt `nextAttempt` (2 = the first retry), before jitter: min·factor^(n−2), capped. */
export function baseDelayMs(backoff: Backoff, nextAttempt: number): number {
  const min = parseDuration(backoff.minDelay);
  const max = parseDuration(backoff.maxDelay);
  const raw = min * backoff.factor ** Math.max(0, nextAttempt - 2);
  return Math.min(raw, Math.max(max, min));
}

/**
 * The delay with jitter applied after the cap, so it never exceeds `maxDelay`.
 * @param random a number in [0, 1); injected so tests and property checks are deterministic.
 */
export function retryDelayMs(backoff: Backoff, nextAttempt: number, random: number): number {
  const base = baseDelayMs(backoff, nextAttempt);
  return Math.round(base * (1 - backoff.jitter * random));
}

export type RetryDecision =
  | { action: 'retry'; nextAttempt: number; delayMs: number; notBefore: Date; why: string }
  | { action: 'final'; status: FinalRunStatus; why: string };

export interface RetryContext {
  policy: RetryPolicy;
  /** The attempt that just ended (1 = first). */
  attempt: number;
  classification: Classification;
  stopCode?: string | null;
  reasons?: string[];
  /** When the run was created: the retry budget counts from here. */
  runCreatedAt: Date;
  now: Date;
  random: number;
}

/**
 * Decides whether a run retries after an attempt ended, and when. Pure.
 * Order: success, exit code 86 (final), the job's rules, the defaults; then `maxAttempts`, then the budget.
 */
export function decideRetry(ctx: RetryContext): RetryDecision {
  const { classification, policy } = ctx;
  if (classification.outcome === 'succeeded')
    return { action: 'final', status: 'succeeded', why: 'succeeded' };
  const finalStatus = finalStatusFor(classification.outcome);
  // The job said so itself (`failPermanently`): no rule, however broad, may retry it.
  if (classification.outcome === 'app_error' && classification.exitCode === NO_RETRY_EXIT_CODE) {
    return {
      action: 'final',
      status: finalStatus,
      why: `exit code ${NO_RETRY_EXIT_CODE} means "do not retry" (the job marked the failure final)`,
    };
  }
  // A configuration mistake (`berth dev`: no command, missing executable): another attempt cannot fix it.
  if (
    classification.outcome === 'start_failure' &&
    classification.reason?.startsWith(BERTH_STOP_REASONS.config)
  ) {
    return { action: 'final', status: finalStatus, why: 'a configuration mistake: no retry can fix it' };
  }
  const input = { ...classification, stopCode: ctx.stopCode ?? null, reasons: ctx.reasons ?? [] };
  const userRule = policy.rules.findIndex((r) => ruleMatches(r, input));
  let action: 'retry' | 'fail';
  let why: string;
  if (userRule !== -1) {
    action = policy.rules[userRule]!.action;
    why = `retry.rules[${userRule}] says ${action}`;
  } else {
    const rule = DEFAULT_RETRY_RULES.find((r) => ruleMatches(r, input));
    action = rule?.action ?? 'fail';
    why = rule ? `default rule: ${rule.why}` : 'no rule matched';
  }
  if (action === 'fail') return { action: 'final', status: finalStatus, why };
  if (ctx.attempt >= policy.maxAttempts) {
    return {
      action: 'final',
      status: finalStatus,
      why:
        policy.maxAttempts === 1 ? 'maxAttempts is 1: no retries' : `all ${policy.maxAttempts} attempts used`,
    };
  }
  const nextAttempt = ctx.attempt + 1;
  const delayMs = retryDelayMs(policy.backoff, nextAttempt, ctx.random);
  const notBefore = new Date(ctx.now.getTime() + delayMs);
  if (policy.budget !== undefined) {
    const deadline = ctx.runCreatedAt.getTime() + parseDuration(policy.budget);
    if (notBefore.getTime() > deadline) {
      return {
        action: 'final',
        status: finalStatus,
        why: `retry budget of ${policy.budget} would be exceeded by attempt ${nextAttempt}`,
      };
    }
  }
  return { action: 'retry', nextAttempt, delayMs, notBefore, why };
}
