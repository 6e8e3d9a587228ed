/**
 * Every check that depends only on the jobs and `custom.berth` — the ones CloudFormation or AWS would reject
 * at deploy, or that would break the stack at run time. `berth validate` and the compiler (`compileService`,
 * used by `berth synth` and the Serverless plugin) both call `checkProject`, so validate and synth never
 * disagree about a project.
 */

import { parseDuration } from '../core/duration.js';
import { formatJobIssue, type JobIssue } from '../core/errors.js';
import type { Job, JobTrigger } from '../core/model/job.js';
import { issuesFromZod } from '../core/model/validate.js';
import { serviceOptionsOf } from '../core/scaling/backlog.js';
import type { LoadedSubscriber } from '../subscriber/index.js';
import { type BerthConfig, berthConfigSchema, MIN_QUEUE_VISIBILITY_SECONDS } from './config.js';
import { capacityIssues } from './ec2Capacity.js';

/** Where `custom.berth` is read from, when the caller does not say. */
export const CONFIG_FILE = 'serverless.yml';

type QueueJobTrigger = Extract<JobTrigger, { kind: 'queue' }>;

/** `custom.berth` parsed, or the issues that keep it from parsing (paths start with `custom.berth`). */
export function checkConfig(
  input: unknown,
  configFile = CONFIG_FILE,
): { config: BerthConfig; issues: [] } | { config: undefined; issues: JobIssue[] } {
  const parsed = berthConfigSchema.safeParse(input ?? {});
  if (parsed.success) return { config: parsed.data, issues: [] };
  const issues = issuesFromZod(parsed.error, configFile, input ?? {}).map((i) => ({
    ...i,
    path: i.path === '(job)' ? 'custom.berth' : `custom.berth.${i.path}`,
    fix: i.fix === 'see the job reference in docs/jobs.md' ? 'see custom.berth in docs/deploy.md' : i.fix,
  }));
  return { config: undefined, issues };
}

/** A job's own queue must keep a message hidden at least 6× the launcher's timeout (AWS's SQS advice). */
export function queueVisibilityIssue(job: Job, trigger: QueueJobTrigger): JobIssue | undefined {
  if (trigger.existing || trigger.mode === 'service') return undefined;
  const seconds = Math.round(parseDuration(trigger.visibilityTimeout) / 1000);
  if (seconds >= MIN_QUEUE_VISIBILITY_SECONDS) return undefined;
  return {
    file: job.file,
    path: 'trigger.queue.visibilityTimeout',
    problem: `${trigger.visibilityTimeout} is shorter than 6× the launcher timeout (${MIN_QUEUE_VISIBILITY_SECONDS / 6}s), so a message could be delivered again while its launch still runs`,
    fix: `use at least '${MIN_QUEUE_VISIBILITY_SECONDS / 60}m'`,
  };
}

/** EventBridge rules cannot publish to a FIFO topic without a message group. */
export function notifyTopicIssue(job: Job): JobIssue | undefined {
  const fifo = job.notify?.sns.find((t) => t.endsWith('.fifo'));
  if (!fifo) return undefined;
  return {
    file: job.file,
    path: 'notify.sns',
    problem: `${fifo} is a FIFO topic, which EventBridge rules cannot publish to without a message group`,
    fix: 'use a standard topic',
  };
}

/** Two step-scaling steps on one threshold would make two overlapping alarm bands. */
export function stepScalingIssue(
  job: Job,
  stepScaling: readonly { visibleAtLeast: number }[] | undefined,
): JobIssue | undefined {
  const steps = [...(stepScaling ?? [])].sort((a, b) => a.visibleAtLeast - b.visibleAtLeast);
  for (let i = 1; i < steps.length; i++) {
    if (steps[i]?.visibleAtLeast === steps[i - 1]?.visibleAtLeast) {
      return {
        file: job.file,
        path: 'trigger.queue.service.stepScaling',
        problem: `two steps start at ${steps[i]?.visibleAtLeast} visible messages`,
        fix: 'give each step its own threshold',
      };
    }
  }
  return undefined;
}

/** A subscriber's `jobs` option must name jobs of the project. */
export function subscriberJobsIssue(loaded: LoadedSubscriber, jobs: readonly Job[]): JobIssue | undefined {
  const known = new Set(jobs.map((j) => j.name));
  const unknown = (loaded.subscriber.options.jobs ?? []).filter((j) => !known.has(j));
  if (!unknown.length) return undefined;
  return {
    file: loaded.file,
    path: 'jobs',
    problem: `no job named ${unknown.join(', ')}`,
    fix: `use one of ${[...known].join(', ') || '(no jobs)'}`,
  };
}

/**
 * Every problem of the jobs together with `custom.berth` (already parsed: see `checkConfig`) and the loaded
 * subscribers.
 */
export function checkProject(
  jobs: readonly Job[],
  config: BerthConfig,
  configFile = CONFIG_FILE,
  subscribers: readonly LoadedSubscriber[] = [],
): JobIssue[] {
  const issues: JobIssue[] = [...capacityIssues(jobs, config, configFile)];
  for (const loaded of subscribers) {
    const unknown = subscriberJobsIssue(loaded, jobs);
    if (unknown) issues.push(unknown);
  }
  for (const job of jobs) {
    for (const trigger of job.triggers) {
      if (trigger.kind !== 'queue') continue;
      const visibility = queueVisibilityIssue(job, trigger);
      if (visibility) issues.push(visibility);
      const steps =
        trigger.mode === 'service'
          ? stepScalingIssue(job, serviceOptionsOf(trigger)?.stepScaling)
          : undefined;
      if (steps) issues.push(steps);
    }
    const topic = notifyTopicIssue(job);
    if (topic) issues.push(topic);
  }
  return issues;
}

/** The compiler's one-line form: `custom.berth` issues without the file (the plugin may not read a file). */
export function formatProjectIssue(issue: JobIssue, configFile = CONFIG_FILE): string {
  return issue.file === configFile ? `${issue.path}: ${issue.problem} — ${issue.fix}` : formatJobIssue(issue);
}
