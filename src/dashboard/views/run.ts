import { isFinalStatus } from '../../core/lifecycle/states.js';
import { summarizeTrigger } from '../../core/lifecycle/trigger.js';
import type { Job } from '../../core/model/job.js';
import type { AttemptRecord, RunRecord } from '../../runtime/ports.js';
import {
  formatCost,
  formatDuration,
  formatTime,
  jobHref,
  runDurationMs,
  runHref,
  statusBadge,
} from '../format.js';
import { type Html, html, prettyJson } from '../html.js';
import { type LogRead, logLinesHtml } from '../logs.js';
import { type AttemptCost, attemptCost, attemptDurationMs, runCost } from '../stats.js';

export { type AttemptCost, attemptCost, runCost };

function attemptEndMs(a: AttemptRecord, now: Date): number {
  return a.stoppedAt ? Date.parse(a.stoppedAt) : now.getTime();
}

function costText(cost: AttemptCost | null): Html {
  if (!cost) return html`—`;
  switch (cost.kind) {
    case 'recorded':
      return html`${formatCost(cost.usd)}`;
    case 'estimate': {
      const where = cost.spot ? 'Fargate Spot' : 'Fargate';
      return html`<span title="What this would cost on ${where} at the job's size${cost.spot ? ' (Spot priced at 30% of on-demand)' : ''}">≈ ${formatCost(cost.usd)} on ${where}</span>`;
    }
    case 'ec2':
      return html`<span title="EC2 tasks run on instances whose cost they share">no Fargate cost (EC2)</span>`;
    default: {
      const never: never = cost;
      return html`${String(never)}`;
    }
  }
}

/** Attempts on one time axis from the run's creation to its end (or now), drawn in SVG. */
function timeline(run: RunRecord, attempts: AttemptRecord[], now: Date): Html {
  if (attempts.length === 0) return html`<p class="empty">No attempt has launched yet.</p>`;
  const t0 = Date.parse(run.createdAt);
  const ends = attempts.map((a) => attemptEndMs(a, now));
  const t1 = Math.max(run.endedAt ? Date.parse(run.endedAt) : now.getTime(), ...ends, t0 + 1);
  const span = t1 - t0;
  const row = 26;
  const x = (ms: number) => Math.max(0, Math.min(1000, ((ms - t0) / span) * 1000));
  const label = `Attempts of run ${run.runId} on a time axis of ${formatDuration(span)}`;
  return html`<svg class="timeline" viewBox="0 0 1000 ${attempts.length * row}" preserveAspectRatio="none" role="img" aria-label="${label}">
${attempts.map((a, i) => {
  const launched = x(Date.parse(a.launchedAt));
  const started = a.startedAt ? x(Date.parse(a.startedAt)) : launched;
  const end = x(attemptEndMs(a, now));
  const cls = a.outcome ?? (a.status === 'ended' ? 'lost' : 'active');
  return html`<g>
  <title>Attempt ${a.attempt}: ${a.outcome ?? a.status}, ${formatDuration(attemptDurationMs(a, now))}</title>
  <rect class="pending" x="${launched.toFixed(1)}" y="${i * row + 6}" width="${Math.max(2, started - launched).toFixed(1)}" height="14"></rect>
  <rect class="outcome-${cls}" x="${started.toFixed(1)}" y="${i * row + 4}" width="${Math.max(3, end - started).toFixed(1)}" height="18"></rect>
</g>`;
})}
</svg>
<p class="axis" aria-hidden="true"><span>created ${formatTime(run.createdAt)}</span><span>+${formatDuration(span)}</span></p>`;
}

function attemptsTable(attempts: AttemptRecord[], job: Job | undefined, now: Date): Html {
  if (attempts.length === 0) return html``;
  return html`<div class="table-wrap"><table class="attempts">
  <caption class="visually-hidden">Attempts</caption>
  <thead><tr><th scope="col">#</th><th scope="col">Outcome</th><th scope="col">Exit code</th><th scope="col">Stop reason</th><th scope="col">Capacity</th><th scope="col">Launched</th><th scope="col">Started</th><th scope="col">Stopped</th><th scope="col">Duration</th><th scope="col">Cost estimate</th></tr></thead>
  <tbody>
${attempts.map(
  (a) => html`<tr data-attempt="${a.attempt}">
    <th scope="row">${a.attempt}</th>
    <td><span class="badge outcome-${a.outcome ?? 'active'}">${a.outcome ?? a.status}</span></td>
    <td>${a.exitCode ?? '—'}</td>
    <td class="reason">${a.stopCode ? html`<code>${a.stopCode}</code> ` : ''}${a.reason ?? (a.stopCode ? '' : '—')}</td>
    <td>${a.capacity ?? '—'}</td>
    <td>${formatTime(a.launchedAt)}</td>
    <td>${formatTime(a.startedAt)}</td>
    <td>${formatTime(a.stoppedAt)}</td>
    <td>${formatDuration(attemptDurationMs(a, now))}</td>
    <td>${costText(attemptCost(a, job, now))}</td>
  </tr>`,
)}
  </tbody>
</table></div>`;
}

/**
 * The run's actions. Cancel asks for a confirmation first (`data-confirm`); Redrive is there only while the
 * run is dead-lettered and no run replays it yet (`replayed`).
 */
function actions(run: RunRecord, replayed: boolean): Html {
  const id = encodeURIComponent(run.runId);
  const active = !isFinalStatus(run.status);
  return html`<div class="buttons" role="group" aria-label="Actions">
  <button type="button" class="primary" data-post="/api/runs/${id}/replay">Replay</button>
  ${active ? html`<button type="button" class="danger" data-post="/api/runs/${id}/cancel" data-confirm="Cancel run ${run.runId} of ${run.job}? A running task is sent SIGTERM, then SIGKILL after the grace period.">Cancel</button>` : ''}
  ${run.deadLettered && !replayed ? html`<button type="button" data-post="/api/runs/${id}/redrive">Redrive from dead letters</button>` : ''}
</div>`;
}

function runLink(runId: string): Html {
  return html`<a href="${runHref(runId)}"><code>${runId}</code></a>`;
}

/**
 * The part of the run page that SSE replaces whenever the run changes (or a replay of it appears).
 * `replays`: ids of the runs that replay this one, oldest first.
 */
export function runLive(
  run: RunRecord,
  attempts: AttemptRecord[],
  job: Job | undefined,
  now: Date,
  replays: readonly string[] = [],
): Html {
  const cost = runCost(attempts.map((a) => attemptCost(a, job, now)));
  return html`<section class="card" aria-labelledby="summary-h">
  <h2 id="summary-h">Summary</h2>
  <dl class="facts summary">
    <div><dt>Status</dt><dd data-field="status">${statusBadge(run.status)}${run.deadLettered && !replays.length ? html` <span class="badge dead">dead-lettered</span>` : ''}</dd></div>
    <div><dt>Job</dt><dd><a href="${jobHref(run.job)}">${run.job}</a></dd></div>
    <div><dt>Attempt</dt><dd data-field="attempt">${run.attempt} of ${run.maxAttempts}</dd></div>
    <div><dt>Trigger</dt><dd>${summarizeTrigger(run.trigger)}</dd></div>
    ${run.replayOf ? html`<div><dt>Replay of</dt><dd data-field="replay-of">${runLink(run.replayOf)}</dd></div>` : ''}
    ${replays.length ? html`<div><dt>Replayed as</dt><dd data-field="replayed-as">${replays.map((id, i) => html`${i ? ', ' : ''}${runLink(id)}`)}</dd></div>` : ''}
    <div><dt>Created</dt><dd>${formatTime(run.createdAt, now)}</dd></div>
    <div><dt>Ended</dt><dd>${formatTime(run.endedAt, now)}</dd></div>
    <div><dt>Duration</dt><dd>${formatDuration(runDurationMs(run, now))}</dd></div>
    <div><dt>Outcome</dt><dd>${run.outcome ?? '—'}</dd></div>
    <div><dt>Exit code</dt><dd>${run.exitCode ?? '—'}</dd></div>
    <div><dt>Stop reason</dt><dd>${run.stopCode ? html`<code>${run.stopCode}</code> ` : ''}${run.reason ?? (run.stopCode ? '' : '—')}</dd></div>
    <div><dt>Decision</dt><dd>${run.decision ?? '—'}</dd></div>
    ${run.nextAttemptAt ? html`<div><dt>Next attempt</dt><dd>${formatTime(run.nextAttemptAt, now)}</dd></div>` : ''}
    <div><dt>Cost estimate</dt><dd>${costText(cost)}</dd></div>
    <div><dt>Task</dt><dd>${run.taskArn ? html`<code>${run.taskArn}</code>` : '—'}</dd></div>
  </dl>
  ${actions(run, replays.length > 0)}
</section>
<section class="card" aria-labelledby="attempts-h">
  <h2 id="attempts-h">Attempts</h2>
  ${timeline(run, attempts, now)}
  ${attemptsTable(attempts, job, now)}
</section>`;
}

export function logPanelId(attempt: number): string {
  return `log-${attempt}`;
}

/**
 * One attempt's log, one `<span data-stream>` per line. The script reads on from `data-offset` (the read's
 * cursor) until the attempt has ended and nothing more is there.
 */
export function logPanel(run: RunRecord, attempt: AttemptRecord, read: LogRead, open: boolean): Html {
  const url = `/api/runs/${encodeURIComponent(run.runId)}/attempts/${attempt.attempt}/log`;
  const id = logPanelId(attempt.attempt);
  const ended = attempt.status === 'ended';
  return html`<details class="log" id="${id}"${open ? html` open` : ''}>
  <summary>Attempt ${attempt.attempt} <span class="muted" data-log-state>${ended ? `ended: ${attempt.outcome ?? 'unknown'}` : 'live'}</span></summary>
  ${read.truncated ? html`<p class="muted">Earlier lines are not shown: this is the end of the log.</p>` : ''}
  <pre role="log" tabindex="0" aria-label="Log of attempt ${attempt.attempt}" data-log="${url}" data-offset="${read.next}" data-partial="${read.partial ? 'true' : 'false'}" data-ended="${ended ? 'true' : 'false'}">${logLinesHtml(read.lines, read.partial)}</pre>
  ${stopLine(attempt)}
</details>`;
}

/** Capacities of attempts run by `berth dev`: their launcher writes the stop signal into the log itself. */
const LOCAL_CAPACITIES = new Set(['local', 'docker']);

/** ECS stop codes under which ECS sent the task's containers SIGTERM (then SIGKILL after the stop timeout). */
const SIGTERM_STOP_CODES = new Set([
  'UserInitiated',
  'SpotInterruption',
  'TerminationNotice',
  'ServiceSchedulerInitiated',
]);

/**
 * How a task on AWS was stopped, as a `berth:` line under its log (CloudWatch holds only what the container
 * wrote; a local attempt's log has the line already, written by the launcher when it sends the signal).
 */
export function stopLine(attempt: AttemptRecord): Html | string {
  if (attempt.status !== 'ended' || LOCAL_CAPACITIES.has(attempt.capacity ?? 'local')) return '';
  if (!attempt.stopCode && !attempt.reason) return '';
  const why = [attempt.stopCode, attempt.reason].filter(Boolean).join(': ');
  const text = SIGTERM_STOP_CODES.has(attempt.stopCode ?? '')
    ? `berth: ECS sent SIGTERM (${why})`
    : `berth: task stopped (${why})`;
  return html`<p class="log-stop"><span class="ln" data-stream="berth">${text}</span></p>`;
}

export function runView(options: {
  run: RunRecord;
  attempts: AttemptRecord[];
  job: Job | undefined;
  logs: Html[];
  now: Date;
  /** Ids of the runs that replay this one, oldest first. */
  replays?: readonly string[];
}): Html {
  const { run } = options;
  return html`<nav class="crumbs" aria-label="Breadcrumb"><ol><li><a href="/runs">Runs</a></li><li><a href="${jobHref(run.job)}">${run.job}</a></li><li aria-current="page"><code>${run.runId}</code></li></ol></nav>
<h1>Run <code>${run.runId}</code></h1>
<div id="run-live" data-run-id="${run.runId}">
${runLive(run, options.attempts, options.job, options.now, options.replays)}
</div>
<section class="card" aria-labelledby="payload-h">
  <h2 id="payload-h">Trigger payload</h2>
  <pre class="payload" tabindex="0" aria-labelledby="payload-h">${prettyJson(run.trigger)}</pre>
</section>
<section class="card" aria-labelledby="logs-h">
  <h2 id="logs-h">Logs</h2>
  <div id="logs">
  ${options.logs.length ? options.logs : html`<p class="empty" id="logs-empty">No attempt has started yet.</p>`}
  </div>
</section>`;
}

/**
 * The page of a run that was just queued from this dashboard (a deployed stage: the launcher starts it when
 * it takes the message from the launch queue) and is not in the runs table yet. It says so; the script opens
 * the run as soon as it appears (the page's event stream), and looks again every few seconds.
 */
export function pendingRunView(options: { runId: string; job: string; requestedAt: Date; now: Date }): Html {
  const { runId, job, requestedAt, now } = options;
  return html`<nav class="crumbs" aria-label="Breadcrumb"><ol><li><a href="/runs">Runs</a></li><li><a href="${jobHref(job)}">${job}</a></li><li aria-current="page"><code>${runId}</code></li></ol></nav>
<h1>Run <code>${runId}</code></h1>
<section class="card pending-run" id="run-pending" data-run="${runId}">
  <p role="status"><span class="badge status-queued">waiting for the launcher</span> Sent to the launch queue ${formatTime(requestedAt.toISOString(), now)}: the launcher has not started this run yet, so it is not in the runs table. This page opens it as soon as it appears.</p>
  <p class="muted">It usually takes a few seconds. If it never appears, the launcher refused the message: its reason is in the launcher's log, and the message ends in the launch queue's dead-letter queue (<code>berth redrive launch-queue --stage …</code> sends it again).</p>
</section>`;
}
