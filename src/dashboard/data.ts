/** What the pages need from the engine, gathered in one place. */
import type { DashboardSource } from './source.js';
import type { JobCardData } from './views/jobs.js';

/** How many recent runs a job card summarises. */
const RECENT_RUNS = 20;
/** How many next fire times a job card lists. */
const NEXT_FIRES = 3;
/** How many failed runs are looked at to count the dead-lettered ones. */
const DEAD_LETTER_SCAN = 500;

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
    // An expression the engine cannot evaluate is reported by `berth validate`; the card still renders.
  }
  const [queue, recent, failed, timedOut] = await Promise.all([
    api.queueStats(job.name),
    api.listRuns({ job: job.name, limit: RECENT_RUNS }),
    api.listRuns({ job: job.name, status: 'failed', limit: DEAD_LETTER_SCAN }),
    api.listRuns({ job: job.name, status: 'timed_out', limit: DEAD_LETTER_SCAN }),
  ]);
  const deadLetteredRuns = [...failed, ...timedOut].filter((r) => r.deadLettered).length;
  const workers = api.workerPools?.().find((p) => p.job === job.name);
  return { job, nextFireTimes, queue, recent, deadLetteredRuns, workers, now };
}

/** How many replays of one run the run page links to (the newest ones). */
const REPLAY_LINKS = 20;

/** Ids of the runs that replay or redrive `runId`, oldest first: derived from each replay's `replayOf`. */
export async function replaysOf(api: DashboardSource, runId: string): Promise<string[]> {
  const runs = await api.listRuns({ replayOf: runId, limit: REPLAY_LINKS });
  return runs.map((r) => r.runId).reverse();
}
