/**
 * Warnings: what AWS accepts but cannot be what the user meant (a one-time schedule in the past, a retry rule
 * that turns every retry off). They print after the errors with their own mark and exit 0, unless
 * `berth validate --strict`. Pure: the caller passes the time.
 */
import type { JobIssue } from '../errors.js';
import { noFireReason, parseScheduleExpression } from '../schedule/index.js';
import type { Job } from './job.js';
import type { RetryRule } from './retry.js';

const CONDITIONS = ['onExitCode', 'onOutcome', 'onStopCode', 'onReason'] as const;

function hasCondition(rule: RetryRule): boolean {
  return CONDITIONS.some((key) => rule[key] !== undefined);
}

function scheduleWarnings(job: Job, now: Date): JobIssue[] {
  const schedules = job.triggers.filter((t) => t.kind === 'schedule');
  const out: JobIssue[] = [];
  schedules.forEach((s, i) => {
    const at = schedules.length > 1 ? `trigger.schedule[${i}]` : 'trigger.schedule';
    const oneTime = parseScheduleExpression(s.expression).kind === 'at';
    if (oneTime && (s.startDate !== undefined || s.endDate !== undefined)) {
      out.push({
        file: job.file,
        path: `${at}.${s.startDate !== undefined ? 'startDate' : 'endDate'}`,
        problem:
          'startDate and endDate do not apply to an at() schedule (AWS ignores them for one-time schedules)',
        fix: 'remove them; at() fires once, at its own time',
        severity: 'warning',
      });
    }
    const reason = noFireReason(s, now);
    if (!reason) return;
    out.push({
      file: job.file,
      path: oneTime || !s.endDate ? `${at}.expression` : `${at}.endDate`,
      problem: `never fires again: ${reason}`,
      fix: oneTime
        ? 'move it to a future time, or remove the schedule'
        : 'move the window (startDate/endDate) or the expression into the future, or remove the schedule',
      severity: 'warning',
    });
  });
  return out;
}

function retryWarnings(job: Job): JobIssue[] {
  const out: JobIssue[] = [];
  const rules = job.retry.rules;
  const catchAll = rules.findIndex((r) => !hasCondition(r));
  if (catchAll === -1) return out;
  const rule = rules[catchAll];
  if (rule?.action === 'fail' && job.retry.maxAttempts > 1) {
    out.push({
      file: job.file,
      path: `retry.rules[${catchAll}]`,
      problem: `has no condition, so it matches every failure and turns off every retry (maxAttempts ${job.retry.maxAttempts} is never reached)`,
      fix: `add a condition (${CONDITIONS.join(', ')}), or set retry.maxAttempts: 1 to turn retries off`,
      severity: 'warning',
    });
  }
  for (let i = catchAll + 1; i < rules.length; i++) {
    out.push({
      file: job.file,
      path: `retry.rules[${i}]`,
      problem: `is never checked: rules[${catchAll}] before it has no condition and matches every failure`,
      fix: `move it before rules[${catchAll}], or remove it`,
      severity: 'warning',
    });
  }
  return out;
}

/** Every warning of one validated job at `now`. */
export function jobWarnings(job: Job, now: Date): JobIssue[] {
  return [...scheduleWarnings(job, now), ...retryWarnings(job)];
}

/** The warning for a jobs folder that holds no job file. */
export function emptyJobsFolderWarning(jobsDir: string): JobIssue {
  const dir = jobsDir.replace(/\/+$/, '');
  return {
    file: `${dir}/`,
    path: '(folder)',
    problem: 'holds no job files, so there is nothing to deploy',
    fix: `add ${dir}/<name>.ts ending in export default defineJob({ ... }) (berth init writes one), or point --jobs-dir / custom.berth.jobsDir at your jobs`,
    severity: 'warning',
  };
}
