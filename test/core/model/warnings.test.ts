import { describe, expect, it } from 'vitest';
import {
  errorsOf,
  formatJobIssue,
  type JobIssue,
  JobValidationError,
  problemJson,
  warningsOf,
} from '../../../src/core/errors.js';
import type { Job } from '../../../src/core/model/job.js';
import { validateJob } from '../../../src/core/model/validate.js';
import { emptyJobsFolderWarning, jobWarnings } from '../../../src/core/model/warnings.js';
import { noFireReason, windowedFireTimes } from '../../../src/core/schedule/index.js';

const FILE = 'jobs/w.ts';
const task = { image: 'public.ecr.aws/docker/library/node:22-alpine' };
const NOW = new Date('2026-11-28T12:00:00Z');

function job(extra: Record<string, unknown>): Job {
  const r = validateJob({ name: 'w', task, ...extra }, FILE);
  if (!r.ok) throw new Error(r.issues.map(formatJobIssue).join('\n'));
  return r.job;
}
const lines = (issues: JobIssue[]) => issues.map((i) => `${i.severity} ${formatJobIssue(i)}`);
const errorsFor = (extra: Record<string, unknown>) => {
  const r = validateJob({ name: 'w', task, ...extra }, FILE);
  return r.ok ? [] : r.issues.map(formatJobIssue);
};

describe('schema errors: the window and the backoff', () => {
  it('startDate after endDate, read in the time zone', () => {
    expect(
      errorsFor({
        trigger: {
          schedule: {
            expression: 'rate(1 hour)',
            timezone: 'Asia/Seoul',
            startDate: '2027-01-01T10:00:00',
            endDate: '2027-01-01T09:59:59',
          },
        },
      }),
    ).toEqual([
      'jobs/w.ts: trigger.schedule.startDate: startDate 2027-01-01T10:00:00 is after endDate 2027-01-01T09:59:59, so the schedule never fires — swap them or fix one',
    ]);
    // Equal ends and an end given with its own offset that lies after the start are fine.
    expect(
      errorsFor({
        trigger: {
          schedule: {
            expression: 'rate(1 hour)',
            startDate: '2027-01-01T10:00:00',
            endDate: '2027-01-01T10:00:00',
          },
        },
      }),
    ).toEqual([]);
    expect(
      errorsFor({
        trigger: {
          schedule: [
            { expression: 'rate(1 hour)' },
            {
              expression: 'rate(1 hour)',
              timezone: 'Asia/Seoul',
              startDate: '2027-01-01T10:00:00',
              endDate: '2027-01-01T02:00:00Z',
            },
          ],
        },
      }),
    ).toEqual([]);
  });

  it('minDelay longer than maxDelay (the default maxDelay included)', () => {
    expect(errorsFor({ retry: { backoff: { minDelay: '10m' } } })).toEqual([
      'jobs/w.ts: retry.backoff.minDelay: minDelay 10m is longer than maxDelay 5m (every delay is capped at maxDelay, 5m by default) — raise maxDelay or lower minDelay',
    ]);
    expect(errorsFor({ retry: { backoff: { minDelay: '2m', maxDelay: '90s' } } })).toEqual([
      'jobs/w.ts: retry.backoff.minDelay: minDelay 2m is longer than maxDelay 90s (every delay is capped at maxDelay) — raise maxDelay or lower minDelay',
    ]);
    expect(errorsFor({ retry: { backoff: { minDelay: '5m', maxDelay: '5m' } } })).toEqual([]);
  });
});

describe('jobWarnings', () => {
  it('an at() in the past, naming the time in its zone', () => {
    const w = jobWarnings(
      job({ trigger: { schedule: { expression: 'at(2026-11-28T20:59:00)', timezone: 'Asia/Seoul' } } }),
      NOW,
    );
    expect(lines(w)).toEqual([
      'warning jobs/w.ts: trigger.schedule.expression: never fires again: at(2026-11-28T20:59:00) was 2026-11-28T20:59:00+09:00, in the past — move it to a future time, or remove the schedule',
    ]);
    // One minute later in Seoul is still to come.
    expect(
      jobWarnings(
        job({ trigger: { schedule: { expression: 'at(2026-11-28T21:01:00)', timezone: 'Asia/Seoul' } } }),
        NOW,
      ),
    ).toEqual([]);
  });

  it('a window that ended, a cron whose years are past, a window with no fire time in it', () => {
    const w = jobWarnings(
      job({
        trigger: {
          schedule: [
            { expression: 'rate(5 minutes)', endDate: '2026-11-28T11:59:59' },
            { expression: 'cron(0 2 * * ? 2020-2025)' },
            {
              expression: 'cron(0 2 * * ? *)',
              startDate: '2027-01-01T03:00:00',
              endDate: '2027-01-01T04:00:00',
            },
            { expression: 'rate(5 minutes)', endDate: '2026-11-28T12:05:00' },
          ],
        },
      }),
      NOW,
    );
    expect(lines(w)).toEqual([
      "warning jobs/w.ts: trigger.schedule[0].endDate: never fires again: the schedule's window ended at endDate 2026-11-28T11:59:59 (2026-11-28T11:59:59+00:00), in the past — move the window (startDate/endDate) or the expression into the future, or remove the schedule",
      'warning jobs/w.ts: trigger.schedule[1].expression: never fires again: cron(0 2 * * ? 2020-2025) names no year after 2025, which is in the past — move the window (startDate/endDate) or the expression into the future, or remove the schedule',
      'warning jobs/w.ts: trigger.schedule[2].endDate: never fires again: cron(0 2 * * ? *) has no fire time between startDate 2027-01-01T03:00:00 and endDate 2027-01-01T04:00:00 (UTC) — move the window (startDate/endDate) or the expression into the future, or remove the schedule',
    ]);
  });

  it('a retry rule with no condition: every retry turned off, and the rules after it never checked', () => {
    const w = jobWarnings(
      job({
        retry: {
          rules: [
            { onExitCode: 3, action: 'retry' },
            { action: 'fail' },
            { onOutcome: 'oom', action: 'retry' },
          ],
        },
      }),
      NOW,
    );
    expect(lines(w)).toEqual([
      'warning jobs/w.ts: retry.rules[1]: has no condition, so it matches every failure and turns off every retry (maxAttempts 3 is never reached) — add a condition (onExitCode, onOutcome, onStopCode, onReason), or set retry.maxAttempts: 1 to turn retries off',
      'warning jobs/w.ts: retry.rules[2]: is never checked: rules[1] before it has no condition and matches every failure — move it before rules[1], or remove it',
    ]);
    // With maxAttempts 1 there is no retry to turn off; a condition makes the rule fine.
    expect(jobWarnings(job({ retry: { maxAttempts: 1, rules: [{ action: 'fail' }] } }), NOW)).toEqual([]);
    expect(jobWarnings(job({ retry: { rules: [{ onExitCode: 2, action: 'fail' }] } }), NOW)).toEqual([]);
  });

  it('startDate/endDate on an at() do nothing (AWS ignores them for one-time schedules)', () => {
    const s = { expression: 'at(2027-03-01T09:00:00)', timezone: 'UTC', endDate: '2027-01-01T00:00:00' };
    expect(lines(jobWarnings(job({ trigger: { schedule: s } }), NOW))).toEqual([
      'warning jobs/w.ts: trigger.schedule.endDate: startDate and endDate do not apply to an at() schedule (AWS ignores them for one-time schedules) — remove them; at() fires once, at its own time',
    ]);
    expect(windowedFireTimes(s, NOW, 3).map((d) => d.toISOString())).toEqual(['2027-03-01T09:00:00.000Z']);
  });

  it('the empty jobs folder warning', () => {
    expect(formatJobIssue(emptyJobsFolderWarning('src/jobs/'))).toMatch(
      /^src\/jobs\/: \(folder\): holds no job files, so there is nothing to deploy — add src\/jobs\/<name>\.ts/,
    );
  });
});

describe('windowedFireTimes and noFireReason', () => {
  const s = {
    expression: 'rate(1 day)',
    timezone: 'Europe/Berlin',
    startDate: '2027-03-01T06:00:00',
    endDate: '2027-03-03T06:00:00',
  };
  it('a rate counts from startDate and stops at endDate (inclusive)', () => {
    expect(windowedFireTimes(s, NOW, 5).map((d) => d.toISOString())).toEqual([
      '2027-03-01T05:00:00.000Z',
      '2027-03-02T05:00:00.000Z',
      '2027-03-03T05:00:00.000Z',
    ]);
    expect(noFireReason(s, NOW)).toBeUndefined();
    expect(noFireReason(s, new Date('2027-03-03T05:00:00Z'))).toBe(
      "the schedule's window ended at endDate 2027-03-03T06:00:00 (2027-03-03T06:00:00+01:00), in the past",
    );
  });
});

describe('the problem shape', () => {
  const error: JobIssue = { file: FILE, path: 'timeout', problem: 'p', fix: 'f' };
  const warning: JobIssue = {
    file: FILE,
    path: 'retry.rules[0]',
    problem: 'q',
    fix: 'g',
    severity: 'warning',
  };
  it('severity defaults to error; errors come before warnings; the JSON form', () => {
    expect(errorsOf([warning, error])).toEqual([error]);
    expect(warningsOf([warning, error])).toEqual([warning]);
    expect(new JobValidationError([warning, error]).issues).toEqual([error, warning]);
    expect(problemJson(error)).toEqual({
      file: FILE,
      field: 'timeout',
      severity: 'error',
      message: 'p',
      fix: 'f',
    });
    expect(problemJson(warning).severity).toBe('warning');
  });
});
