/** What the pages need from the engine, gathered in one place. */
import type { LocalEngineApi } from '../runtime/local/api.js';
import type { JobCardData } from './views/jobs.js';

/** How many recent runs a job card summarises. */
const RECENT_RUNS = 20;
/** How many next fire times a job card lists. */
const NEXT_FIRES = 3;

export async function jobCardData(api: LocalEngineApi, name: string): Promise<JobCardData | undefined> {
  const job = api.jobs().find((j) => j.name === name);
  if (!job) return undefined;
  let nextFireTimes: string[] = [];
  try {
    nextFireTimes = api.nextFireTimes(job.name, NEXT_FIRES);
  } catch {
    // An expression the engine cannot evaluate is reported by `berth validate`; the card still renders.
  }
  const [queue, recent] = await Promise.all([
    api.queueStats(job.name),
    api.listRuns({ job: job.name, limit: RECENT_RUNS }),
  ]);
  return { job, nextFireTimes, queue, recent };
}
