import { describeTrigger, isoInZone } from '../../cli/describe.js';
import type { RunStatus } from '../../core/lifecycle/states.js';
import type { Job } from '../../core/model/job.js';
import type { QueueStats, WorkerPoolStatus } from '../../runtime/local/api.js';
import type { RunRecord } from '../../runtime/ports.js';
import { formatTime, jobRunsHref, runHref, statusBadge } from '../format.js';
import { type Html, html } from '../html.js';
import { workerPanel } from './workers.js';

/** What the jobs page shows of one job; gathered from the engine by `index.ts`. */
export interface JobCardData {
  job: Job;
  nextFireTimes: string[];
  queue: QueueStats;
  /** The job's most recent runs, newest first. */
  recent: RunRecord[];
  /** Runs that failed for good and can be redriven. */
  deadLetteredRuns: number;
  /** The worker pool of a service-mode queue job (undefined for other jobs, or an engine without pools). */
  workers: WorkerPoolStatus | undefined;
  /** When the data was gathered: the worker chart ends here. */
  now: Date;
}

export function jobElementId(name: string): string {
  return `job-${name}`;
}

function scheduleZone(job: Job): string {
  for (const t of job.triggers) if (t.kind === 'schedule') return t.timezone ?? 'UTC';
  return 'UTC';
}

/** trigger → launch queue → task → interceptor → subscribers, as an ordered list drawn as a flow. */
function pathDiagram(job: Job): Html {
  const triggers = job.triggers.length ? job.triggers.map(describeTrigger) : ['manual invoke only'];
  const service = job.triggers.find((t) => t.kind === 'queue' && t.mode === 'service');
  const vcpu = job.task.cpu / 1024;
  const memory = job.task.memory >= 1024 ? `${job.task.memory / 1024} GB` : `${job.task.memory} MB`;
  const subscribers = ['outcome events (bus, terminal, dashboard)'];
  if (job.notify?.sns.length) subscribers.push(`${job.notify.sns.length} SNS topic(s)`);
  if (job.notify?.email.length) subscribers.push(`${job.notify.email.length} email address(es)`);
  const cap = job.maxConcurrency ? `, at most ${job.maxConcurrency} at once` : '';
  return html`<figure class="path">
  <figcaption>Path of a run</figcaption>
  <ol class="flow">
    <li><span class="step">Trigger</span> ${triggers.map((t, i) => html`${i ? html`<br>` : ''}${t}`)}</li>
    ${
      service
        ? html`<li><span class="step">Workers</span> long-running, poll the queue; SQS redelivers what fails</li>`
        : html`<li><span class="step">Launch queue</span> buffers and retries${cap}</li>`
    }
    <li><span class="step">Task</span> ${job.task.image ?? `built from ${job.task.build?.entry ?? job.task.build?.dockerfile}`}<br>${vcpu} vCPU · ${memory} · ${service ? 'runs until scaled in' : `timeout ${job.timeout}`}</li>
    <li><span class="step">Interceptor</span> ${service ? 'records each worker that stops (never retried)' : `records the outcome, up to ${job.retry.maxAttempts} attempt(s)`}</li>
    <li><span class="step">Subscribers</span> ${subscribers.map((s, i) => html`${i ? html`<br>` : ''}${s}`)}</li>
  </ol>
</figure>`;
}

const ATTENTION: readonly RunStatus[] = ['failed', 'timed_out'];

/** The live part of a job card: queue numbers and recent runs. Re-sent over SSE when a run of the job changes. */
export function jobStats(data: JobCardData): Html {
  const { queue, recent } = data;
  const failed = recent.filter((r) => ATTENTION.includes(r.status)).length;
  const active = recent.filter((r) =>
    ['queued', 'launching', 'running', 'retrying'].includes(r.status),
  ).length;
  const last = recent[0];
  return html`<dl class="facts">
  <div><dt>Queue depth</dt><dd><span data-stat="visible">${queue.visible}</span> waiting · ${queue.inFlight} in flight · ${queue.delayed} delayed</dd></div>
  <div><dt>Dead letters</dt><dd><span data-stat="dead-letter" class="${queue.deadLetter ? 'warn' : ''}">${queue.deadLetter}</span> message(s) · <a href="${jobRunsHref(data.job.name)}&amp;status=failed" class="${data.deadLetteredRuns ? 'warn' : ''}" data-stat="dead-runs">${data.deadLetteredRuns} run(s)</a> to redrive</dd></div>
  <div><dt>Recent runs</dt><dd><a href="${jobRunsHref(data.job.name)}">${recent.length} run(s)</a>: ${active} active, <span class="${failed ? 'warn' : ''}">${failed} failed</span></dd></div>
  <div class="wide"><dt>Last run</dt><dd>${last ? html`<a href="${runHref(last.runId)}">${last.runId}</a> ${statusBadge(last.status)} ${formatTime(last.createdAt)}` : 'none yet'}</dd></div>
</dl>`;
}

export function jobCard(data: JobCardData): Html {
  const { job } = data;
  const id = jobElementId(job.name);
  const zone = scheduleZone(job);
  const payloadId = `${id}-payload`;
  const hasFailed = data.recent.some((r) => ATTENTION.includes(r.status));
  return html`<section class="card job" id="${id}" aria-labelledby="${id}-name">
  <header class="card-head">
    <h2 id="${id}-name">${job.name}</h2>
    <span class="file">${job.file}</span>
  </header>
  ${job.description ? html`<p class="description">${job.description}</p>` : ''}
  <div class="job-grid">
    <div>
      <h3>Triggers</h3>
      <ul class="triggers">
        ${job.triggers.length ? job.triggers.map((t) => html`<li>${describeTrigger(t)}</li>`) : html`<li>manual invoke only</li>`}
      </ul>
      ${
        data.nextFireTimes.length
          ? html`<h3>Next fire times</h3>
      <ol class="fires">
        ${data.nextFireTimes.map((iso) => html`<li><time datetime="${iso}">${isoInZone(new Date(iso), zone)}</time></li>`)}
      </ol>`
          : ''
      }
      <div class="stats" data-job-stats="${job.name}">${jobStats(data)}</div>
      ${data.workers ? html`<h3>Worker fleet</h3><div class="workers" data-job-workers="${job.name}">${workerPanel(data.workers, data.now)}</div>` : ''}
    </div>
    <div>
      ${pathDiagram(job)}
      <form class="run-now" data-action="/api/jobs/${encodeURIComponent(job.name)}/invoke">
        <label for="${payloadId}">Payload for ${job.name} (JSON, optional)</label>
        <textarea id="${payloadId}" name="payload" rows="2" spellcheck="false" placeholder='{"example": true}' aria-describedby="${payloadId}-error"></textarea>
        <p class="field-error" id="${payloadId}-error"></p>
        ${s3Fields(job, id)}
        <div class="buttons">
          <button type="submit" class="primary">Run now</button>
          <button type="button" data-post="/api/jobs/${encodeURIComponent(job.name)}/replay-failed"${hasFailed ? '' : html` title="no failed runs among the recent ones"`}>Replay all failed runs</button>
        </div>
      </form>
    </div>
  </div>
</section>`;
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

export function jobsView(cards: JobCardData[]): Html {
  return html`<h1>Jobs</h1>
${cards.length ? cards.map(jobCard) : html`<p class="empty">No jobs found: add a file to <code>jobs/</code> that default-exports <code>defineJob({…})</code>.</p>`}`;
}
