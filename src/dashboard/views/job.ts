/**
 * The job page (`/jobs/<name>`): the job's row of the jobs table (live), its plots over time, the path a run
 * takes (shown once, here), its triggers and next fire times, its worker fleet, its recent runs and its
 * actions (Run now; Replay all failed, only when there are failed runs to replay).
 */
import { isoInZone } from '../../core/model/describe.js';
import type { Job } from '../../core/model/job.js';
import type { RunRecord } from '../../runtime/ports.js';
import { formatTime, imageName, jobRunsHref, plural } from '../format.js';
import { type Html, html } from '../html.js';
import type { DayCost, DayOutcomes, DurationPoint } from '../stats.js';
import { JOB_TABLE_HEAD, type JobCardData, jobElementId, jobRow, STRIP_RUNS, triggerWords } from './jobs.js';
import { costPlot, durationsPlot, outcomesPlot } from './plots.js';
import { runRows } from './runs.js';
import { workerPanel } from './workers.js';

/** What the job page shows besides the row: the plots' data and the newest runs. */
export interface JobPageData {
  row: JobCardData;
  /** Start of the plots' window. */
  from: Date;
  durations: DurationPoint[];
  p50Ms: number | null;
  outcomes: DayOutcomes[];
  costs: DayCost[];
  /** Runs whose attempts were priced for the cost plot, when fewer than the runs in the window. */
  pricedRuns?: number;
  /** Ids of runs that a run replays already (no dead-lettered badge in the recent runs). */
  replayed: ReadonlySet<string>;
}

function scheduleZone(job: Job): string {
  for (const t of job.triggers) if (t.kind === 'schedule') return t.timezone ?? 'UTC';
  return 'UTC';
}

function lines(items: readonly (string | Html)[]): Html {
  return html`${items.map((t, i) => html`${i ? html`<br>` : ''}${t}`)}`;
}

/** trigger → launch queue → task → interceptor → subscribers, as an ordered list drawn as a flow. */
export function pathDiagram(job: Job): Html {
  const service = job.triggers.find((t) => t.kind === 'queue' && t.mode === 'service');
  const vcpu = job.task.cpu / 1024;
  const memory = job.task.memory >= 1024 ? `${job.task.memory / 1024} GB` : `${job.task.memory} MB`;
  const subscribers = ['outcome events (bus, terminal, dashboard)'];
  if (job.notify?.sns.length) subscribers.push(plural(job.notify.sns.length, 'SNS topic'));
  if (job.notify?.email.length) {
    subscribers.push(plural(job.notify.email.length, 'email address', 'email addresses'));
  }
  const cap = job.maxConcurrency ? `, at most ${job.maxConcurrency} at once` : '';
  const image = job.task.image
    ? imageName(job.task.image)
    : html`built from <code>${job.task.build?.entry ?? job.task.build?.dockerfile}</code>`;
  return html`<figure class="path">
  <figcaption>Path of a run</figcaption>
  <ol class="flow">
    <li><span class="step">Trigger</span> ${lines(triggerWords(job))}</li>
    ${
      service
        ? html`<li><span class="step">Workers</span> long-running, poll the queue; SQS redelivers what fails</li>`
        : html`<li><span class="step">Launch queue</span> buffers and retries${cap}</li>`
    }
    <li class="task"><span class="step">Task</span> ${image}<br>${vcpu} vCPU · ${memory} · ${service ? 'runs until scaled in' : `timeout ${job.timeout}`}</li>
    <li><span class="step">Interceptor</span> ${service ? 'records each worker that stops (never retried)' : `records the outcome, up to ${plural(job.retry.maxAttempts, 'attempt')}`}</li>
    <li><span class="step">Subscribers</span> ${lines(subscribers)}</li>
  </ol>
</figure>`;
}

/**
 * An S3-triggered job can be run for an object of its bucket folder: the run gets the S3-shaped trigger.
 * Empty key: a plain manual run.
 */
function s3Fields(job: Job, id: string): Html | string {
  const buckets: string[] = [];
  for (const t of job.triggers) if (t.kind === 's3' && !buckets.includes(t.bucket)) buckets.push(t.bucket);
  if (buckets.length === 0) return '';
  return html`<div class="s3-object">
          <label for="${id}-bucket">Bucket</label>
          <select id="${id}-bucket" name="bucket">${buckets.map((b) => html`<option value="${b}">${b}</option>`)}</select>
          <label for="${id}-key">Object key (optional: run as if it had been written)</label>
          <input id="${id}-key" name="key" type="text" spellcheck="false" placeholder="images/cat.jpg">
        </div>`;
}

/** Run now (with an optional payload or S3 object) and, when there are failed runs to replay, Replay all failed. */
export function jobActions(data: JobCardData): Html {
  const { job } = data;
  const id = jobElementId(job.name);
  const payloadId = `${id}-payload`;
  const name = encodeURIComponent(job.name);
  return html`<form class="run-now" data-action="/api/jobs/${name}/invoke">
  <label for="${payloadId}">Payload for ${job.name} (JSON, optional)</label>
  <textarea id="${payloadId}" name="payload" rows="2" spellcheck="false" placeholder='{"example": true}' aria-describedby="${payloadId}-error"></textarea>
  <p class="field-error" id="${payloadId}-error"></p>
  ${s3Fields(job, id)}
  <div class="buttons">
    <button type="submit" class="primary">Run now</button>
    ${
      data.failedToReplay
        ? html`<button type="button" data-post="/api/jobs/${name}/replay-failed">Replay ${plural(data.failedToReplay, 'failed run')}</button>`
        : ''
    }
  </div>
</form>`;
}

/**
 * Redrive for the job queue's dead-letter messages: only when there are some and the source can move them,
 * with a confirmation. Re-sent with each `job` event (`deadLetters`), swapped into
 * `[data-job-dead-letters="<name>"]`.
 */
export function deadLetterActions(data: JobCardData): Html | string {
  const { job, queue } = data;
  if (!data.canRedriveQueue || queue.deadLetter <= 0) return '';
  const what = plural(queue.deadLetter, 'dead letter');
  const again =
    queue.deadLetter === 1
      ? 'It is received again, as a new message'
      : 'They are received again, as new messages';
  return html`<p class="dead-letter-note"><span class="warn">${what}</span> in the dead-letter queue of ${job.name}'s queue: messages received as often as the queue allows without being handled.</p>
  <button type="button" data-post="/api/jobs/${encodeURIComponent(job.name)}/redrive" data-confirm="Move ${what} back to ${job.name}'s queue? ${again}." data-gone-after="true">Redrive ${what}</button>`;
}

export function jobView(data: JobPageData): Html {
  const { row } = data;
  const { job } = row;
  const id = jobElementId(job.name);
  const zone = scheduleZone(job);
  const recent: RunRecord[] = row.recent;
  return html`<nav class="crumbs" aria-label="Breadcrumb"><ol><li><a href="/">Jobs</a></li><li aria-current="page">${job.name}</li></ol></nav>
<header class="job-head">
  <h1>${job.name}</h1>
  <span class="file">${job.file}</span>
</header>
${job.description ? html`<p class="description">${job.description}</p>` : ''}
<div class="table-wrap glance">
<table class="jobs">
  <caption class="visually-hidden">${job.name} at a glance, over its last runs</caption>
  ${JOB_TABLE_HEAD}
  <tbody>
${jobRow(row)}
  </tbody>
</table>
</div>
<section class="card" aria-labelledby="${id}-actions-h">
  <h2 id="${id}-actions-h">Run it</h2>
  ${jobActions(row)}
  <div class="dead-letters" data-job-dead-letters="${job.name}">${deadLetterActions(row)}</div>
</section>
<section class="card" aria-labelledby="${id}-plots-h">
  <h2 id="${id}-plots-h">Over time</h2>
  <div class="plots">
    ${durationsPlot({ id: `${id}-durations`, job: job.name, points: data.durations, from: data.from, to: row.now, days: data.outcomes.length, p50Ms: data.p50Ms })}
    ${outcomesPlot({ id: `${id}-outcomes`, job: job.name, days: data.outcomes })}
    ${costPlot({ id: `${id}-cost`, job: job.name, days: data.costs, ...(data.pricedRuns !== undefined ? { pricedRuns: data.pricedRuns } : {}) })}
  </div>
</section>
<section class="card" aria-labelledby="${id}-how-h">
  <h2 id="${id}-how-h">How it runs</h2>
  ${pathDiagram(job)}
  <div class="job-grid">
    <div>
      <h3>Triggers</h3>
      <ul class="triggers">${triggerWords(job).map((t) => html`<li>${t}</li>`)}</ul>
    </div>
    <div>
      ${
        row.nextFireTimes.length
          ? html`<h3>Next fire times</h3>
      <ol class="fires">
        ${row.nextFireTimes.map((iso) => html`<li>${formatTime(iso, row.now)}${zone !== 'UTC' ? html` <span class="muted">(${isoInZone(new Date(iso), zone)})</span>` : ''}</li>`)}
      </ol>`
          : ''
      }
    </div>
  </div>
  ${row.workers ? html`<h3>Worker fleet</h3><div class="workers" data-job-workers="${job.name}">${workerPanel(row.workers, row.now)}</div>` : ''}
</section>
<section class="card" aria-labelledby="${id}-runs-h">
  <h2 id="${id}-runs-h">Recent runs</h2>
  <div class="table-wrap" data-runs-table${recent.length ? '' : html` hidden`}><table class="runs">
    <caption class="visually-hidden">Recent runs of ${job.name}, newest first</caption>
    <thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Attempt</th><th scope="col">Trigger</th><th scope="col">Created</th><th scope="col">Duration</th></tr></thead>
    <tbody id="run-rows" data-limit="${STRIP_RUNS}">${runRows(recent, row.now, data.replayed, false)}</tbody>
  </table></div>
  ${recent.length ? '' : html`<p class="empty" id="runs-empty">No runs yet: press Run now above${job.triggers.length ? ', or wait for its trigger' : ''}.</p>`}
  <p><a href="${jobRunsHref(job.name)}">All runs of ${job.name}</a></p>
</section>`;
}
