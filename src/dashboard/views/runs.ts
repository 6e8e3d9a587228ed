import { RUN_STATUSES, type RunStatus } from '../../core/lifecycle/states.js';
import { summarizeTrigger } from '../../core/lifecycle/trigger.js';
import type { RunRecord } from '../../runtime/ports.js';
import {
  formatDuration,
  formatTime,
  plural,
  runDurationMs,
  runHref,
  statusBadge,
  statusWord,
} from '../format.js';
import { type Html, html } from '../html.js';

/** Relative time windows of the "Since" filter. */
export const SINCE_WINDOWS = {
  '15m': { label: 'last 15 minutes', ms: 15 * 60_000 },
  '1h': { label: 'last hour', ms: 3_600_000 },
  '24h': { label: 'last 24 hours', ms: 86_400_000 },
  '7d': { label: 'last 7 days', ms: 7 * 86_400_000 },
} as const;
export type SinceWindow = keyof typeof SINCE_WINDOWS;

/** The filters of the runs page, as read from its query string. */
export interface RunsQuery {
  job?: string;
  status?: RunStatus;
  since?: SinceWindow;
  search?: string;
}

export function runRowId(runId: string): string {
  return `run-${runId}`;
}

/**
 * One row. The script scales the duration bar against the longest run on the page. `replayed`: the run is
 * replayed already, so a dead-lettered one no longer shows the badge.
 */
export function runRow(run: RunRecord, now: Date, replayed = false, showJob = true): Html {
  const duration = runDurationMs(run, now);
  return html`<tr id="${runRowId(run.runId)}" data-run-id="${run.runId}" data-status="${run.status}" data-created="${run.createdAt}"${run.endedAt ? html` data-ended="${run.endedAt}"` : ''}>
  <th scope="row"><a href="${runHref(run.runId)}"><code>${run.runId}</code></a></th>
  ${showJob ? html`<td>${run.job}</td>` : ''}
  <td>${statusBadge(run.status)}${run.deadLettered && !replayed ? html` <span class="badge dead">dead-lettered</span>` : ''}</td>
  <td>${run.attempt}/${run.maxAttempts}</td>
  <td class="trigger">${summarizeTrigger(run.trigger)}</td>
  <td class="when">${formatTime(run.createdAt, now)}</td>
  <td class="duration"><span class="duration-text">${formatDuration(duration)}</span><span class="bar" aria-hidden="true"><span class="fill status-${run.status}"></span></span></td>
</tr>`;
}

/** The rows of `runs`; the ids in `replayed` are runs that a run replays already. */
export function runRows(
  runs: RunRecord[],
  now: Date,
  replayed: ReadonlySet<string> = new Set(),
  showJob = true,
): Html {
  return html`${runs.map((r) => runRow(r, now, replayed.has(r.runId), showJob))}`;
}

function option(value: string, label: string, selected: boolean): Html {
  return html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
}

export function runsView(options: {
  jobs: string[];
  query: RunsQuery;
  runs: RunRecord[];
  limit: number;
  now: Date;
  /** Runs on the page that a run replays already (no dead-lettered badge). */
  replayed?: ReadonlySet<string>;
}): Html {
  const { query, runs } = options;
  const filtered = Boolean(query.job || query.status || query.since || query.search);
  return html`<h1>Runs</h1>
<form class="filters" method="get" action="/runs" role="search" aria-label="Filter runs">
  <label>Job
    <select name="job">
      ${option('', 'all jobs', !query.job)}
      ${options.jobs.map((j) => option(j, j, query.job === j))}
    </select>
  </label>
  <label>Status
    <select name="status">
      ${option('', 'any status', !query.status)}
      ${RUN_STATUSES.map((s) => option(s, statusWord(s), query.status === s))}
    </select>
  </label>
  <label>Since
    <select name="since">
      ${option('', 'any time', !query.since)}
      ${Object.entries(SINCE_WINDOWS).map(([k, w]) => option(k, w.label, query.since === k))}
    </select>
  </label>
  <label>Search
    <input type="search" name="search" value="${query.search ?? ''}" placeholder="run id or object key">
  </label>
  <button type="submit">Apply</button>
  ${filtered ? html`<a href="/runs">Clear filters</a>` : ''}
</form>
<p class="count" id="runs-count" role="status">${plural(runs.length, 'run')}${runs.length >= options.limit ? ` (newest ${options.limit})` : ''}, updated live</p>
<div class="table-wrap">
<table class="runs">
  <caption class="visually-hidden">Runs, newest first</caption>
  <thead>
    <tr><th scope="col">Run</th><th scope="col">Job</th><th scope="col">Status</th><th scope="col">Attempt</th><th scope="col">Trigger</th><th scope="col">Created</th><th scope="col">Duration</th></tr>
  </thead>
  <tbody id="run-rows" data-limit="${options.limit}">
${runRows(runs, options.now, options.replayed)}
  </tbody>
</table>
</div>
${runs.length ? '' : html`<p class="empty" id="runs-empty">No runs${filtered ? ' match these filters' : ' yet: drop a file into a bucket folder, or press Run now on the Jobs page'}.</p>`}`;
}
