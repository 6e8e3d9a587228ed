/**
 * The jobs page: one table, one row per job, read in seconds: what starts it, how its last 20 runs went,
 * its success rate and duration percentiles, when it fires next, what waits in its queue, and a link to its
 * job page (views/job.ts) where the path of a run, the plots and the actions are.
 */
import { describeTrigger } from '../../core/model/describe.js';
import type { Job } from '../../core/model/job.js';
import type { QueueStats, WorkerPoolStatus } from '../../runtime/local/api.js';
import type { RunRecord } from '../../runtime/ports.js';
import { formatDuration, formatTime, jobHref, plural, statusWord } from '../format.js';
import { type Html, html } from '../html.js';
import { type JobSummary, summarize } from '../stats.js';

/** What the jobs table shows of one job (and the job page's live summary); gathered by `data.ts`. */
export interface JobCardData {
  job: Job;
  /** The next fire times (ISO, UTC), soonest first; empty for a job without a schedule. */
  nextFireTimes: string[];
  queue: QueueStats;
  /** The job's most recent runs, newest first (at most `RECENT_RUNS`). */
  recent: RunRecord[];
  /** Failed runs (among the newest few hundred) that are dead-lettered and not replayed yet. */
  deadLetteredRuns: number;
  /** Failed or timed-out runs (among the newest few hundred) not replayed yet: what "Replay all failed" replays. */
  failedToReplay: number;
  /** Whether the source can move the job queue's dead letters back (`redriveQueue`). */
  canRedriveQueue: boolean;
  /** The worker pool of a service-mode queue job (undefined for other jobs, or a source without pools). */
  workers: WorkerPoolStatus | undefined;
  /** When the data was gathered. */
  now: Date;
}

/** How many runs the strip of status marks shows. */
export const STRIP_RUNS = 20;

export function jobElementId(name: string): string {
  return `job-${name}`;
}

/** The job's triggers in words; `manual invoke only` without any. */
export function triggerWords(job: Job): string[] {
  return job.triggers.length ? job.triggers.map(describeTrigger) : ['manual invoke only'];
}

function percent(rate: number | null): string {
  if (rate === null) return '—';
  const p = rate * 100;
  return `${p === 100 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

/**
 * The last runs as a strip of marks, oldest on the left: each mark's colour and height say how the run ended
 * (a tall red bar failed, a shorter green one succeeded, a low grey one was cancelled, a blue outline is still
 * going), the whole strip is one image named by a sentence counting them.
 */
export function statusStrip(job: string, recent: readonly RunRecord[]): Html {
  const runs = recent.slice(0, STRIP_RUNS).reverse();
  if (runs.length === 0) return html`<span class="none">no runs yet</span>`;
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(statusWord(r.status), (counts.get(statusWord(r.status)) ?? 0) + 1);
  const words = [...counts.entries()].map(([w, n]) => `${n} ${w}`).join(', ');
  const label = `Last ${plural(runs.length, 'run')} of ${job}, oldest first: ${words}; the newest ${statusWord(runs.at(-1)?.status ?? 'queued')}.`;
  return html`<span class="strip" role="img" aria-label="${label}">${runs.map(
    (r) => html`<span class="mark status-${r.status}" title="${r.runId}: ${statusWord(r.status)}"></span>`,
  )}</span>`;
}

function nextFireCell(data: JobCardData): Html {
  const next = data.nextFireTimes[0];
  if (!next) return html`<span class="none">—</span>`;
  return formatTime(next, data.now);
}

function queueCell(data: JobCardData): Html {
  const { queue, job } = data;
  const hasQueue = job.triggers.some((t) => t.kind === 'queue');
  const parts: Html[] = [];
  if (hasQueue || queue.visible || queue.inFlight || queue.delayed) {
    parts.push(
      html`<span data-stat="visible">${queue.visible}</span> waiting${queue.inFlight ? html` · ${queue.inFlight} in flight` : ''}${queue.delayed ? html` · ${queue.delayed} delayed` : ''}`,
    );
  }
  if (queue.deadLetter) {
    parts.push(
      html`<span class="warn" data-stat="dead-letter">${plural(queue.deadLetter, 'dead letter')}</span>`,
    );
  }
  if (data.deadLetteredRuns) {
    parts.push(
      html`<span class="warn" data-stat="dead-runs">${plural(data.deadLetteredRuns, 'run')} to redrive</span>`,
    );
  }
  if (data.workers) {
    parts.push(
      html`<span data-stat="workers">${plural(data.workers.running, 'worker')}</span> (${data.workers.minTasks}–${data.workers.maxTasks})`,
    );
  }
  return parts.length
    ? html`${parts.map((p, i) => html`${i ? html`<br>` : ''}${p}`)}`
    : html`<span class="none">—</span>`;
}

/** The numbers of one job's row. */
export function jobSummary(data: JobCardData): JobSummary {
  return summarize(data.recent);
}

/**
 * The cells of a job's row: its name (a link to the job page) and the live numbers. Re-sent over SSE (`job`
 * events) whenever a run of the job changes, and swapped into `<tr data-job-stats="<name>">` on the jobs page
 * and on the job page.
 */
export function jobStats(data: JobCardData): Html {
  const { job } = data;
  const s = jobSummary(data);
  const decided = s.succeeded + s.failed;
  return html`<th scope="row"><a href="${jobHref(job.name)}">${job.name}</a>${job.description ? html`<span class="sub">${job.description}</span>` : ''}</th>
<td class="trigger" data-label="Trigger">${triggerWords(job).map((t, i) => html`${i ? html`<br>` : ''}${t}`)}</td>
<td class="strip-cell" data-label="Last ${STRIP_RUNS} runs">${statusStrip(job.name, data.recent)}</td>
<td class="num" data-label="Success" data-stat="success-rate"><span class="${s.successRate !== null && s.successRate < 1 ? 'warn' : ''}">${percent(s.successRate)}</span>${decided ? html`<span class="sub">${s.succeeded} of ${decided}</span>` : ''}</td>
<td class="num" data-label="p50" data-stat="p50">${formatDuration(s.p50Ms)}</td>
<td class="num" data-label="p95" data-stat="p95">${formatDuration(s.p95Ms)}</td>
<td class="when" data-label="Next fire">${nextFireCell(data)}</td>
<td class="queue" data-label="Queue">${queueCell(data)}</td>`;
}

/** One row of the jobs table. */
export function jobRow(data: JobCardData): Html {
  return html`<tr id="${jobElementId(data.job.name)}" data-job-stats="${data.job.name}">
${jobStats(data)}
</tr>`;
}

export const JOB_TABLE_HEAD = html`<thead><tr>
  <th scope="col">Job</th>
  <th scope="col">Trigger</th>
  <th scope="col">Last ${STRIP_RUNS} runs</th>
  <th scope="col" class="num"><abbr title="Succeeded out of the recent runs that succeeded or failed (cancelled ones left out)">Success</abbr></th>
  <th scope="col" class="num"><abbr title="Median duration from creation to end of the recent runs">p50</abbr></th>
  <th scope="col" class="num"><abbr title="95th percentile duration of the recent runs">p95</abbr></th>
  <th scope="col">Next fire</th>
  <th scope="col">Queue</th>
</tr></thead>`;

export function jobsView(rows: JobCardData[]): Html {
  if (rows.length === 0) {
    return html`<h1>Jobs</h1>
<p class="empty">No jobs found: add a file to <code>jobs/</code> that default-exports <code>defineJob({…})</code>.</p>`;
  }
  const failing = rows.filter((r) => r.failedToReplay > 0).length;
  const dead = rows.reduce((n, r) => n + r.deadLetteredRuns, 0);
  return html`<h1>Jobs</h1>
<p class="count">${plural(rows.length, 'job')}${failing ? html` · <span class="warn">${plural(failing, 'job')} with failed runs</span>` : ''}${dead ? html` · <span class="warn">${plural(dead, 'dead-lettered run')}</span>` : ''}; numbers over each job's last ${STRIP_RUNS} runs, updated live.</p>
<div class="table-wrap">
<table class="jobs">
  <caption class="visually-hidden">Jobs, one row each: trigger, last runs, success rate, durations, next fire and queue</caption>
  ${JOB_TABLE_HEAD}
  <tbody>
${rows.map(jobRow)}
  </tbody>
</table>
</div>`;
}
