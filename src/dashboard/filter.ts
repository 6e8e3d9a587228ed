/** The runs filter: read from a query string, passed to the engine, and applied to live updates. */
import { RUN_STATUSES, type RunStatus } from '../core/lifecycle/states.js';
import type { RunRecord } from '../runtime/ports.js';
import type { RunFilter } from './source.js';
import { type RunsQuery, SINCE_WINDOWS, type SinceWindow } from './views/runs.js';

export const DEFAULT_RUNS_LIMIT = 100;
export const MAX_RUNS_LIMIT = 500;
const MAX_SEARCH_LENGTH = 200;

function isStatus(value: string): value is RunStatus {
  return (RUN_STATUSES as readonly string[]).includes(value);
}

function isWindow(value: string): value is SinceWindow {
  return Object.hasOwn(SINCE_WINDOWS, value);
}

/** Reads `job`, `status`, `since` (a window such as `1h`) and `search`; unknown values are dropped. */
export function parseRunsQuery(params: URLSearchParams): RunsQuery {
  const query: RunsQuery = {};
  const job = params.get('job')?.trim();
  if (job) query.job = job;
  const status = params.get('status')?.trim();
  if (status && isStatus(status)) query.status = status;
  const since = params.get('since')?.trim();
  if (since && isWindow(since)) query.since = since;
  const search = params.get('search')?.trim();
  if (search) query.search = search.slice(0, MAX_SEARCH_LENGTH);
  return query;
}

/** The engine's filter for a page query, `since` resolved against `now`. */
export function toRunFilter(query: RunsQuery, now: Date, limit = DEFAULT_RUNS_LIMIT): RunFilter {
  const filter: RunFilter = { limit };
  if (query.job) filter.job = query.job;
  if (query.status) filter.status = query.status;
  if (query.since) filter.since = new Date(now.getTime() - SINCE_WINDOWS[query.since].ms).toISOString();
  if (query.search) filter.search = query.search;
  return filter;
}

/** For the JSON API: `since` may also be an ISO timestamp, and `limit` is accepted up to 500. */
export function parseApiRunFilter(params: URLSearchParams, now: Date): RunFilter {
  const filter = toRunFilter(parseRunsQuery(params), now);
  const since = params.get('since')?.trim();
  if (since && !isWindow(since)) {
    const t = Date.parse(since);
    if (Number.isNaN(t))
      throw new RangeError(`since "${since}" is neither an ISO time nor one of 15m, 1h, 24h, 7d`);
    filter.since = new Date(t).toISOString();
  }
  const limit = params.get('limit');
  if (limit !== null) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`limit "${limit}" is not a whole number ≥ 1`);
    filter.limit = Math.min(n, MAX_RUNS_LIMIT);
  }
  return filter;
}

/** Whether a run belongs on a page with this filter: the same test the engine applies to `listRuns`. */
export function matchesFilter(run: RunRecord, filter: RunFilter): boolean {
  if (filter.job && run.job !== filter.job) return false;
  if (filter.status && run.status !== filter.status) return false;
  if (filter.since && Date.parse(run.createdAt) < Date.parse(filter.since)) return false;
  if (filter.replayOf && run.replayOf !== filter.replayOf) return false;
  if (filter.search) {
    const key = run.trigger.kind === 's3' ? run.trigger.key : '';
    if (!run.runId.includes(filter.search) && !key.includes(filter.search)) return false;
  }
  return true;
}
