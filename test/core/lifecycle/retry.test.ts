import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Classification } from '../../../src/core/lifecycle/classify.js';
import {
  baseDelayMs,
  DEFAULT_RETRY_RULES,
  decideRetry,
  type RetryContext,
  retryDelayMs,
  ruleMatches,
} from '../../../src/core/lifecycle/retry.js';
import { OUTCOME_CLASSES } from '../../../src/core/lifecycle/states.js';
import { type RetryInput, retrySchema } from '../../../src/core/model/retry.js';
import { REPO_ROOT } from '../../loader/tmpProject.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const policy = (input: RetryInput = {}) => retrySchema.parse(input);
const ctx = (
  classification: Partial<Classification> & Pick<Classification, 'outcome'>,
  over: Partial<RetryContext> = {},
): RetryContext => ({
  policy: policy(),
  attempt: 1,
  classification: { exitCode: null, reason: null, ...classification },
  runCreatedAt: NOW,
  now: NOW,
  random: 0,
  ...over,
});

describe('decideRetry: defaults', () => {
  it.each([
    ['app_error', 1, null, 'retry', 'default rule: application errors retry by default'],
    [
      'start_failure',
      null,
      'CannotPullContainerError: … i/o timeout',
      'retry',
      'default rule: infrastructure failures are transient',
    ],
    [
      'spot_interrupted',
      143,
      'Your Spot Task was interrupted.',
      'retry',
      'default rule: Spot capacity was reclaimed',
    ],
    ['lost', null, null, 'retry', 'default rule: the task vanished without a recorded outcome'],
    [
      'oom',
      137,
      null,
      'failed',
      'default rule: the same memory would run out again; raise task.memory or add a rule',
    ],
    [
      'timed_out',
      143,
      'berth: timeout',
      'timed_out',
      'default rule: a timeout would likely repeat; add a rule to retry it',
    ],
    ['cancelled', null, 'berth: cancelled', 'cancelled', 'default rule: a cancelled run stays cancelled'],
  ] as const)('%s → %s', (outcome, exitCode, reason, expected, why) => {
    const d = decideRetry(ctx({ outcome, exitCode, reason }));
    expect(d.why).toBe(why);
    if (expected === 'retry') expect(d).toMatchObject({ action: 'retry', nextAttempt: 2 });
    else expect(d).toEqual({ action: 'final', status: expected, why });
  });

  it('a success is final', () => {
    expect(decideRetry(ctx({ outcome: 'succeeded', exitCode: 0 }))).toEqual({
      action: 'final',
      status: 'succeeded',
      why: 'succeeded',
    });
  });

  it.each([
    'CannotPullContainerError: failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/jobs:v9: not found',
    'CannotPullContainerError: pull image manifest has been retried 5 time(s): manifest unknown',
    'CannotPullContainerError: pull access denied for jobs, repository does not exist or may require docker login',
    'ResourceInitializationError: unable to pull secrets or registry auth: … AccessDeniedException: not authorized',
    'CannotStartContainerError: exec: "node": executable file not found in $PATH',
  ])('a permanent start failure is final: %s', (reason) => {
    const d = decideRetry(ctx({ outcome: 'start_failure', reason }));
    expect(d).toEqual({
      action: 'final',
      status: 'failed',
      why: 'default rule: the image, secret or permission is wrong; another attempt cannot fix it',
    });
  });

  it('exit code 86 is final, even when a rule of the job would retry application errors', () => {
    const expected = {
      action: 'final',
      status: 'failed',
      why: 'exit code 86 means "do not retry" (the job marked the failure final)',
    };
    expect(decideRetry(ctx({ outcome: 'app_error', exitCode: 86 }))).toEqual(expected);
    const broad = policy({ maxAttempts: 5, rules: [{ onOutcome: 'app_error', action: 'retry' }] });
    expect(decideRetry(ctx({ outcome: 'app_error', exitCode: 86 }, { policy: broad }))).toEqual(expected);
  });

  it('a local configuration mistake is final, even when a rule of the job would retry start failures', () => {
    const reason =
      'berth: cannot start locally: nope: command not found (ENOENT in /p) — fix task.local.command of jobs/x.ts';
    const broad = policy({ maxAttempts: 5, rules: [{ onOutcome: 'start_failure', action: 'retry' }] });
    expect(decideRetry(ctx({ outcome: 'start_failure', reason }, { policy: broad }))).toEqual({
      action: 'final',
      status: 'failed',
      why: 'a configuration mistake: no retry can fix it',
    });
    // Any other start failure still follows the job's rules.
    expect(
      decideRetry(
        ctx({ outcome: 'start_failure', reason: 'CannotPullContainerError: timeout' }, { policy: broad }),
      ).action,
    ).toBe('retry');
  });

  it('every default rule says why, and failures of the job itself retry', () => {
    for (const rule of DEFAULT_RETRY_RULES) expect(rule.why.length).toBeGreaterThan(10);
    const covered = new Set(DEFAULT_RETRY_RULES.flatMap((r) => (r.onOutcome ? [r.onOutcome].flat() : [])));
    for (const outcome of OUTCOME_CLASSES.filter((o) => o !== 'succeeded'))
      expect(covered).toContain(outcome);
  });
});

describe('decideRetry: the job rules come first, in order', () => {
  it('a job rule overrides a default (retry an OOM)', () => {
    const p = policy({ rules: [{ onOutcome: 'oom', action: 'retry' }] });
    expect(decideRetry(ctx({ outcome: 'oom', exitCode: 137 }, { policy: p }))).toMatchObject({
      action: 'retry',
      why: 'retry.rules[0] says retry',
    });
  });

  it('a job rule fails an exit code the defaults would retry', () => {
    const p = policy({ rules: [{ onExitCode: [2, 3], action: 'fail' }] });
    expect(decideRetry(ctx({ outcome: 'app_error', exitCode: 3 }, { policy: p }))).toEqual({
      action: 'final',
      status: 'failed',
      why: 'retry.rules[0] says fail',
    });
    expect(decideRetry(ctx({ outcome: 'app_error', exitCode: 4 }, { policy: p })).action).toBe('retry');
  });

  it('the first matching rule decides', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('retry', 'fail') as fc.Arbitrary<'retry' | 'fail'>,
        fc.constantFrom('retry', 'fail') as fc.Arbitrary<'retry' | 'fail'>,
        fc.integer({ min: 1, max: 85 }),
        (first, second, exitCode) => {
          const p = policy({
            maxAttempts: 3,
            rules: [
              { onExitCode: 200, action: second },
              { onExitCode: { from: 1, to: 85 }, action: first },
              { onOutcome: 'app_error', action: second },
            ],
          });
          const d = decideRetry(ctx({ outcome: 'app_error', exitCode }, { policy: p }));
          expect(d.why).toBe(`retry.rules[1] says ${first}`);
          expect(d.action).toBe(first === 'retry' ? 'retry' : 'final');
        },
      ),
    );
  });
});

describe('decideRetry: attempts and budget', () => {
  it('maxAttempts counts the first attempt', () => {
    const p = policy({ maxAttempts: 3 });
    const app = { outcome: 'app_error', exitCode: 1 } as const;
    expect(decideRetry(ctx(app, { policy: p, attempt: 1 }))).toMatchObject({
      action: 'retry',
      nextAttempt: 2,
    });
    expect(decideRetry(ctx(app, { policy: p, attempt: 2 }))).toMatchObject({
      action: 'retry',
      nextAttempt: 3,
    });
    expect(decideRetry(ctx(app, { policy: p, attempt: 3 }))).toEqual({
      action: 'final',
      status: 'failed',
      why: 'all 3 attempts used',
    });
    expect(decideRetry(ctx(app, { policy: policy({ maxAttempts: 1 }) }))).toEqual({
      action: 'final',
      status: 'failed',
      why: 'maxAttempts is 1: no retries',
    });
  });

  it('never retries past maxAttempts (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(...OUTCOME_CLASSES),
        (maxAttempts, attempt, outcome) => {
          const d = decideRetry(ctx({ outcome, exitCode: 1 }, { policy: policy({ maxAttempts }), attempt }));
          if (d.action === 'retry') expect(d.nextAttempt).toBeLessThanOrEqual(maxAttempts);
        },
      ),
    );
  });

  it('the retry budget ends retries early and says so', () => {
    const p = policy({ maxAttempts: 10, budget: '1m', backoff: { minDelay: '10s', jitter: 0 } });
    const createdAt = new Date(NOW.getTime() - 55_000);
    expect(
      decideRetry(ctx({ outcome: 'app_error', exitCode: 1 }, { policy: p, runCreatedAt: createdAt })),
    ).toEqual({
      action: 'final',
      status: 'failed',
      why: 'retry budget of 1m would be exceeded by attempt 2',
    });
    const fresh = decideRetry(ctx({ outcome: 'app_error', exitCode: 1 }, { policy: p }));
    expect(fresh).toMatchObject({ action: 'retry', delayMs: 10_000 });
  });

  it('notBefore is now plus the delay', () => {
    const p = policy({ backoff: { minDelay: '30s', jitter: 0 } });
    const d = decideRetry(ctx({ outcome: 'lost' }, { policy: p }));
    expect(d).toEqual({
      action: 'retry',
      nextAttempt: 2,
      delayMs: 30_000,
      notBefore: new Date(NOW.getTime() + 30_000),
      why: 'default rule: the task vanished without a recorded outcome',
    });
  });
});

describe('backoff', () => {
  const backoff = policy({ backoff: { minDelay: '10s', maxDelay: '5m', factor: 2, jitter: 0 } }).backoff;

  it('grows by the factor from minDelay and stops at maxDelay', () => {
    expect([2, 3, 4, 5, 6, 7, 8, 20].map((n) => baseDelayMs(backoff, n))).toEqual([
      10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000,
    ]);
  });

  it('applies jitter after the cap: full random takes the whole jitter fraction off', () => {
    const jittered = { ...backoff, jitter: 0.2 };
    expect(retryDelayMs(jittered, 20, 0)).toBe(300_000);
    expect(retryDelayMs(jittered, 20, 0.5)).toBe(270_000);
    expect(retryDelayMs(jittered, 20, 0.999_999)).toBe(240_000);
  });

  const backoffArb = fc.record({
    minDelay: fc.integer({ min: 0, max: 600 }).map((s) => `${s}s` as const),
    maxDelay: fc.integer({ min: 0, max: 3600 }).map((s) => `${s}s` as const),
    factor: fc.double({ min: 1, max: 10, noNaN: true }),
    jitter: fc.double({ min: 0, max: 1, noNaN: true }),
  });

  it('delay ∈ [base·(1−jitter), base] and never above maxDelay (property)', () => {
    fc.assert(
      fc.property(
        backoffArb,
        fc.integer({ min: 2, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (b, nextAttempt, random) => {
          const base = baseDelayMs(b, nextAttempt);
          const delay = retryDelayMs(b, nextAttempt, random);
          // Delays are whole milliseconds: allow the half millisecond of rounding.
          expect(delay).toBeGreaterThanOrEqual(base * (1 - b.jitter) - 0.5);
          expect(delay).toBeLessThanOrEqual(base + 0.5);
          const cap = Math.max(Number.parseInt(b.maxDelay, 10), Number.parseInt(b.minDelay, 10)) * 1000;
          expect(delay).toBeLessThanOrEqual(cap);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('the base delay never shrinks from one attempt to the next (property)', () => {
    fc.assert(
      fc.property(backoffArb, fc.integer({ min: 2, max: 60 }), (b, n) => {
        expect(baseDelayMs(b, n + 1)).toBeGreaterThanOrEqual(baseDelayMs(b, n));
      }),
    );
  });
});

describe('ruleMatches', () => {
  const attempt = {
    outcome: 'start_failure' as const,
    exitCode: null,
    reason: 'CannotPullContainerError: toomanyrequests: You have reached your pull rate limit',
    stopCode: 'TaskFailedToStart',
    reasons: ['Task failed to start'],
  };

  it('needs every condition to hold', () => {
    expect(
      ruleMatches(
        { onStopCode: 'TaskFailedToStart', onReason: '*toomanyrequests*', action: 'retry' },
        attempt,
      ),
    ).toBe(true);
    expect(
      ruleMatches({ onStopCode: 'UserInitiated', onReason: '*toomanyrequests*', action: 'retry' }, attempt),
    ).toBe(false);
    expect(ruleMatches({ onOutcome: ['oom', 'start_failure'], action: 'retry' }, attempt)).toBe(true);
  });

  it('matches the reason glob against every reason, case-sensitively', () => {
    expect(ruleMatches({ onReason: 'Task failed to start', action: 'fail' }, attempt)).toBe(true);
    expect(ruleMatches({ onReason: '*TOOMANYREQUESTS*', action: 'fail' }, attempt)).toBe(false);
    expect(ruleMatches({ onReason: 'CannotPullContainerError?*', action: 'fail' }, attempt)).toBe(true);
  });

  it('an exit-code rule never matches an attempt without an exit code', () => {
    expect(ruleMatches({ onExitCode: { from: 0, to: 255 }, action: 'fail' }, attempt)).toBe(false);
  });

  it('exit codes: one, a list or an inclusive range', () => {
    const a = { outcome: 'app_error' as const, exitCode: 12, reason: null };
    expect(ruleMatches({ onExitCode: 12, action: 'fail' }, a)).toBe(true);
    expect(ruleMatches({ onExitCode: [1, 12], action: 'fail' }, a)).toBe(true);
    expect(ruleMatches({ onExitCode: { from: 10, to: 12 }, action: 'fail' }, a)).toBe(true);
    expect(ruleMatches({ onExitCode: { from: 13, to: 20 }, action: 'fail' }, a)).toBe(false);
  });
});

describe('docs/retries.md', () => {
  it('documents DEFAULT_RETRY_RULES as they are, in order', () => {
    const readme = readFileSync(join(REPO_ROOT, 'docs', 'retries.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('<!-- section:retries -->'),
      readme.indexOf('<!-- /section:retries -->'),
    );
    const table = section.slice(section.indexOf('## Default rules'), section.indexOf('Override any of them'));
    const rows = table
      .split('\n')
      .filter((l) => /^\| \d+ \|/.test(l))
      .map((l) => l.split('|').map((c) => c.trim()));
    expect(rows).toHaveLength(DEFAULT_RETRY_RULES.length);
    DEFAULT_RETRY_RULES.forEach((rule, i) => {
      const [, n, when, action, why] = rows[i]!;
      expect(n).toBe(String(i + 1));
      expect(action).toBe(rule.action);
      expect(why).toBe(rule.why);
      if (rule.onOutcome) expect(when).toContain(`\`${rule.onOutcome}\``);
      if (rule.onReason) expect(when).toContain(`\`${rule.onReason}\``);
      if (rule.onExitCode !== undefined)
        expect(when).toContain(`exit code ${JSON.stringify(rule.onExitCode)}`);
    });
  });
});
