/**
 * `/api/events`: one server-sent event stream per open page. Run changes from the engine are coalesced
 * (a burst of transitions becomes one update) and rendered here with the same templates as the page, so
 * the script only swaps escaped markup in place.
 *
 * - `?view=runs&job=…&status=…&since=…&search=…` → `run` events `{ runId, html }` or `{ runId, remove: true }`
 * - `?view=run&run=<id>` → `detail` events `{ html, attempts: [{ attempt, ended, html }] }`, also when a
 *   replay of the run appears
 * - `?view=jobs` → `job` events `{ job, html, deadLetters }` (the job's queue and run numbers; the job page's
 *   Redrive of the queue's dead letters), and for service-mode
 *   jobs `workers` events `{ job, html }` (the worker fleet: count, range, chart), checked every
 *   `WORKERS_POLL_MS` and sent when the count changed or `WORKERS_REDRAW_MS` passed (the chart's time axis moves)
 * - `?view=job&job=<name>` (the job page) → the same `job` and `workers` events for that job only, and `run`
 *   events `{ runId, html }` for its recent-runs table (rows without the job column; a replay also re-sends
 *   the row of the run it replays, which loses its dead-lettered badge)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunRecord } from '../runtime/ports.js';
import { jobCardData, replaysOf } from './data.js';
import { matchesFilter, parseRunsQuery, toRunFilter } from './filter.js';
import { SECURITY_HEADERS } from './http.js';
import type { DashboardSource, LogRead, RunFilter } from './source.js';
import { deadLetterActions } from './views/job.js';
import { jobStats, STRIP_RUNS } from './views/jobs.js';
import { logPanel, runLive } from './views/run.js';
import { runRow } from './views/runs.js';
import { workerPanel } from './views/workers.js';

/** How long run changes are gathered before one update is sent. */
export const COALESCE_MS = 100;
/** A comment line this often keeps proxies and the browser from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;
/**
 * How often a page polls a source that has no `subscribe`: `listRuns` for the page's runs, compared by
 * `updatedAt`. (The console's AWS source has its own shared poll, see src/console/awsSource.ts.)
 */
export const POLL_MS = 5000;
/** How many runs one poll of a source without `subscribe` reads. */
const POLL_RUNS = 100;
/** How often the worker pools of service-mode jobs are looked at (they change without any run changing). */
export const WORKERS_POLL_MS = 1000;
/** A worker chart is redrawn at least this often, so its time axis keeps up with the clock. */
export const WORKERS_REDRAW_MS = 10_000;

/**
 * For a source without `subscribe`: reads the page's runs every `POLL_MS` and reports those whose
 * `updatedAt` moved (the first read only sets the baseline). Returns the stop function.
 */
function pollRuns(
  api: DashboardSource,
  mode: Mode,
  onRun: (run: RunRecord) => void,
  isClosed: () => boolean,
): () => void {
  const seen = new Map<string, string>();
  let first = true;
  let running = false;
  const tick = async () => {
    if (running || isClosed()) return;
    running = true;
    try {
      const runs =
        mode.view === 'runs'
          ? await api.listRuns({ ...mode.filter, limit: Math.min(mode.filter.limit ?? POLL_RUNS, POLL_RUNS) })
          : mode.view === 'run'
            ? [
                ...[await api.getRun(mode.runId)].filter((r): r is RunRecord => r !== undefined),
                ...(await api.listRuns({ replayOf: mode.runId, limit: 20 })),
              ]
            : mode.view === 'job'
              ? await api.listRuns({ job: mode.job, limit: STRIP_RUNS })
              : await api.listRuns({ limit: POLL_RUNS });
      for (const run of runs) {
        if (seen.get(run.runId) === run.updatedAt) continue;
        seen.set(run.runId, run.updatedAt);
        if (!first) onRun(run);
      }
      first = false;
    } catch {
      // A failed poll is retried on the next tick.
    } finally {
      running = false;
    }
  };
  void tick();
  const interval = setInterval(() => void tick(), POLL_MS);
  return () => clearInterval(interval);
}

type Mode =
  | { view: 'runs'; filter: RunFilter }
  | { view: 'run'; runId: string }
  | { view: 'jobs' }
  | { view: 'job'; job: string };

function modeOf(params: URLSearchParams, now: Date): Mode {
  const view = params.get('view');
  const runId = params.get('run');
  if (view === 'run' && runId) return { view: 'run', runId };
  if (view === 'jobs') return { view: 'jobs' };
  const job = params.get('job');
  if (view === 'job' && job) return { view: 'job', job };
  return { view: 'runs', filter: toRunFilter(parseRunsQuery(params), now) };
}

export function openEventStream(
  api: DashboardSource,
  req: IncomingMessage,
  res: ServerResponse,
  params: URLSearchParams,
  now: () => Date,
): void {
  const mode = modeOf(params, now());
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/event-stream; charset=utf-8',
    Connection: 'keep-alive',
  });
  // Reconnect quickly after the engine restarts.
  res.write('retry: 1000\n\n');

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let flushing = Promise.resolve();
  const pending = new Map<string, RunRecord>();

  const write = (event: string, data: unknown) => {
    if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };

  async function flushRuns(runs: RunRecord[]): Promise<void> {
    const at = now();
    if (mode.view === 'runs') {
      for (const run of runs) {
        if (matchesFilter(run, mode.filter)) write('run', { runId: run.runId, html: runRow(run, at).value });
        else if (!mode.filter.job || mode.filter.job === run.job)
          write('run', { runId: run.runId, remove: true });
      }
    } else if (mode.view === 'run') {
      // The run itself changed, or a replay of it appeared (its "Replayed as" links grow).
      const run =
        runs.find((r) => r.runId === mode.runId) ??
        (runs.some((r) => r.replayOf === mode.runId) ? await api.getRun(mode.runId) : undefined);
      if (!run) return;
      const attempts = await api.listAttempts(run.runId);
      // A new attempt's panel starts empty; the script's first read (no cursor) fetches its tail.
      const empty: LogRead = {
        lines: [],
        next: '',
        more: false,
        truncated: false,
        exists: false,
        partial: false,
        reset: false,
      };
      write('detail', {
        html: runLive(
          run,
          attempts,
          api.jobs().find((j) => j.name === run.job),
          at,
          await replaysOf(api, run.runId),
        ).value,
        attempts: attempts.map((a) => ({
          attempt: a.attempt,
          ended: a.status === 'ended',
          state: a.status === 'ended' ? `ended: ${a.outcome ?? 'unknown'}` : 'live',
          html: logPanel(run, a, empty, true).value,
        })),
      });
    } else if (mode.view === 'job') {
      const data = await jobCardData(api, mode.job, at);
      if (data) {
        write('job', {
          job: mode.job,
          html: jobStats(data).value,
          deadLetters: String(deadLetterActions(data)),
        });
      }
      // Oldest first, so the table ends newest first; a replay also redraws its original without the badge.
      const sent = new Set<string>();
      for (const run of [...runs].sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
        if (run.replayOf && !sent.has(run.replayOf)) {
          const original = await api.getRun(run.replayOf);
          if (original?.job === mode.job) {
            write('run', { runId: original.runId, html: runRow(original, at, true, false).value });
            sent.add(original.runId);
          }
        }
        write('run', { runId: run.runId, html: runRow(run, at, false, false).value });
        sent.add(run.runId);
      }
    } else {
      for (const job of new Set(runs.map((r) => r.job))) {
        const data = await jobCardData(api, job, at);
        if (data)
          write('job', { job, html: jobStats(data).value, deadLetters: String(deadLetterActions(data)) });
      }
    }
  }

  const flush = () => {
    timer = undefined;
    const runs = [...pending.values()];
    pending.clear();
    flushing = flushing
      .then(() => flushRuns(runs))
      .catch((error: unknown) => {
        write('problem', { message: error instanceof Error ? error.message : String(error) });
      });
  };

  const onRun = (run: RunRecord) => {
    if (closed) return;
    // On a run page: the run, and its replays (they add to its "Replayed as" links).
    if (mode.view === 'run' && run.runId !== mode.runId && run.replayOf !== mode.runId) return;
    if (mode.view === 'job' && run.job !== mode.job) return;
    pending.set(run.runId, run);
    timer ??= setTimeout(flush, COALESCE_MS);
  };
  const unsubscribe = api.subscribe
    ? api.subscribe((e) => {
        if (e.type === 'run') onRun(e.run);
        else if (e.type === 'problem') write('problem', { message: e.message });
      })
    : pollRuns(api, mode, onRun, () => closed);
  // Worker counts are not run changes: poll the pools and send a chart when something moved.
  const sentWorkers = new Map<string, { key: string; at: number }>();
  const pollWorkers = () => {
    if (closed) return;
    const at = now();
    for (const pool of api.workerPools?.() ?? []) {
      if (mode.view === 'job' && pool.job !== mode.job) continue;
      const last = pool.history.at(-1);
      const key = `${pool.running}/${pool.desired}/${pool.history.length}/${last?.at ?? ''}`;
      const sent = sentWorkers.get(pool.job);
      if (sent && sent.key === key && at.getTime() - sent.at < WORKERS_REDRAW_MS) continue;
      sentWorkers.set(pool.job, { key, at: at.getTime() });
      write('workers', { job: pool.job, html: workerPanel(pool, at).value });
    }
  };
  const workersTimer =
    (mode.view === 'jobs' || mode.view === 'job') && api.workerPools
      ? setInterval(pollWorkers, WORKERS_POLL_MS)
      : undefined;
  if (workersTimer) pollWorkers();
  const heartbeat = setInterval(() => {
    if (!closed) res.write(': ping\n\n');
  }, HEARTBEAT_MS);

  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(heartbeat);
    if (workersTimer) clearInterval(workersTimer);
    if (timer) clearTimeout(timer);
  };
  req.on('close', close);
  res.on('close', close);
  res.on('error', close);
}
