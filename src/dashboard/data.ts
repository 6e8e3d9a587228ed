/** What the pages need from the source, gathered in one place. */
import { isFinalStatus } from '../core/lifecycle/states.js';
import type { AttemptRecord } from '../runtime/ports.js';
import type { DashboardSource } from './source.js';
import {
  costPerDay,
  durationPoints,
  lastDays,
  outcomesPerDay,
  quantile,
  replayedIds,
  stillDeadLettered,
  unreplayedFailures,
  utcDay,
} from './stats.js';
import type { JobPageData } from './views/job.js';
import { type JobCardData, STRIP_RUNS } from './views/jobs.js';

/** How many recent runs a job's row summarises (the strip, the success rate, the percentiles). */
const RECENT_RUNS = STRIP_RUNS;
/** How many next fire times a job lists. */
const NEXT_FIRES = 3;
/**
 * How many of a job's newest runs are looked at for replays (a replay is newer than its original, so the
 * replay of a recent failure is among them).
 */
const REPLAY_SCAN = 100;
/** How many failed (and, apart, timed-out) runs are looked at to count the ones to replay or redrive. */
const FAILURE_SCAN = 500;
/** Days the job page's plots cover. */
export const PLOT_DAYS = 14;
/** Most runs the job page's plots read (the newest ones in the window). */
export const PLOT_RUNS = 1000;
/** Most runs whose attempts the cost plot reads (one `listAttempts` each). */
export const PRICED_RUNS = 100;

export async function jobCardData(
  api: DashboardSource,
  name: string,
  now: Date = new Date(),
): Promise<JobCardData | undefined> {
  const job = api.jobs().find((j) => j.name === name);
  if (!job) return undefined;
  let nextFireTimes: string[] = [];
  try {
    nextFireTimes = api.nextFireTimes(job.name, NEXT_FIRES);
  } catch {
    // An expression the source cannot evaluate is reported by `berth validate`; the row still renders.
  }
  const [queue, newest, failed, timedOut] = await Promise.all([
    api.queueStats(job.name),
    api.listRuns({ job: job.name, limit: REPLAY_SCAN }),
    api.listRuns({ job: job.name, status: 'failed', limit: FAILURE_SCAN }),
    api.listRuns({ job: job.name, status: 'timed_out', limit: FAILURE_SCAN }),
  ]);
  const recent = newest.slice(0, RECENT_RUNS);
  // The failed runs, with the newest runs (and the failed ones themselves) as the replays to look for.
  const seen = new Set(newest.map((r) => r.runId));
  const scan = [...newest, ...[...failed, ...timedOut].filter((r) => !seen.has(r.runId))];
  const workers = api.workerPools?.().find((p) => p.job === job.name);
  return {
    job,
    nextFireTimes,
    queue,
    recent,
    deadLetteredRuns: stillDeadLettered(scan).length,
    failedToReplay: unreplayedFailures(scan).length,
    canRedriveQueue: typeof api.redriveQueue === 'function',
    workers,
    now,
  };
}

/** The job page's data: its row, and its runs of the last `PLOT_DAYS` days for the plots. */
export async function jobPageData(
  api: DashboardSource,
  name: string,
  now: Date = new Date(),
): Promise<JobPageData | undefined> {
  const row = await jobCardData(api, name, now);
  if (!row) return undefined;
  // From the start of the first of the plotted UTC days, so every plot counts the same runs.
  const from = new Date(`${lastDays(now, PLOT_DAYS)[0]}T00:00:00.000Z`);
  const runs = await api.listRuns({ job: name, since: from.toISOString(), limit: PLOT_RUNS });
  const durations = durationPoints(runs, from);
  const ended = runs.filter((r) => isFinalStatus(r.status));
  const priced = ended.slice(0, PRICED_RUNS);
  const capped = ended.length > priced.length;
  const attempts: AttemptRecord[] = (await Promise.all(priced.map((r) => api.listAttempts(r.runId)))).flat();
  return {
    row,
    from,
    durations,
    p50Ms: quantile(
      durations.map((d) => d.ms),
      0.5,
    ),
    outcomes: outcomesPerDay(runs, now, PLOT_DAYS),
    costs: costPerDay(attempts, row.job, now, PLOT_DAYS, capped ? countedFrom(priced) : undefined),
    ...(capped ? { pricedRuns: priced.length } : {}),
    replayed: replayedIds([...runs, ...row.recent]),
  };
}

/** The first UTC day whole among the priced runs (newest first): the day after the oldest one ended. */
function countedFrom(priced: readonly { endedAt: string | null; createdAt: string }[]): string {
  const oldest = priced.at(-1);
  const at = Date.parse(oldest?.endedAt ?? oldest?.createdAt ?? '');
  return utcDay(new Date(at + 86_400_000).toISOString());
}

/** How many replays of one run the run page links to (the newest ones). */
const REPLAY_LINKS = 20;

/** Ids of the runs that replay or redrive `runId`, oldest first: derived from each replay's `replayOf`. */
export async function replaysOf(api: DashboardSource, runId: string): Promise<string[]> {
  const runs = await api.listRuns({ replayOf: runId, limit: REPLAY_LINKS });
  return runs.map((r) => r.runId).reverse();
}

/**
 * Of the runs given, the dead-lettered ones that a run replays already (their badge and Redrive button
 * go): one `listRuns({ replayOf })` per dead-lettered run, at most `limit` of them.
 */
export async function replayedDeadLetters(
  api: DashboardSource,
  runs: readonly { runId: string; deadLettered: boolean }[],
  limit = 20,
): Promise<Set<string>> {
  const dead = runs.filter((r) => r.deadLettered).slice(0, limit);
  const found = await Promise.all(
    dead.map(async (r) => ((await api.listRuns({ replayOf: r.runId, limit: 1 })).length ? r.runId : null)),
  );
  return new Set(found.filter((id): id is string => id !== null));
}
