/**
 * The worker fleet of a service-mode queue job on the jobs page: how many workers run now, the range they
 * scale in, and a step chart of the wanted count over the last minutes (the pool's history from
 * `LocalEngineApi.workerPools`, the same data as `GET /api/workers`).
 */
import { formatDuration } from '../../core/duration.js';
import type { WorkerPoolStatus } from '../../runtime/local/api.js';
import { type Html, html } from '../html.js';

/** The longest stretch of time the chart shows. */
export const WORKER_WINDOW_MS = 15 * 60_000;
/** The shortest: a pool that started seconds ago still gets a readable chart. */
export const WORKER_MIN_WINDOW_MS = 60_000;

const WIDTH = 240;
const HEIGHT = 48;
/** Room above the top line and below the zero line, so a flat line at either end stays visible. */
const PAD = 3;

export interface WorkerSeries {
  /** Start and end of the chart (ms). */
  from: number;
  to: number;
  /** The wanted worker count as steps: from `at` on, `workers` until the next step (or `to`). */
  steps: { at: number; workers: number }[];
  /** Lowest and highest count inside the window. */
  low: number;
  high: number;
}

/** The pool's history cut to the chart window; the count at the window start is carried in from before it. */
export function workerSeries(pool: WorkerPoolStatus, now: Date): WorkerSeries {
  const to = now.getTime();
  const points = pool.history.map((p) => ({ at: Date.parse(p.at), workers: p.workers }));
  const first = points[0]?.at ?? to;
  const span = Math.min(WORKER_WINDOW_MS, Math.max(WORKER_MIN_WINDOW_MS, to - first));
  const from = to - span;
  const steps: { at: number; workers: number }[] = [];
  let before: { at: number; workers: number } | undefined;
  for (const p of points) {
    if (p.at <= from) before = p;
    else if (p.at <= to) steps.push(p);
  }
  if (before) steps.unshift({ at: from, workers: before.workers });
  if (steps.length === 0) steps.push({ at: from, workers: pool.desired });
  const counts = steps.map((s) => s.workers);
  return { from, to, steps, low: Math.min(...counts), high: Math.max(...counts) };
}

/** SVG path data of the steps (line) and of the area under them, in a WIDTH×HEIGHT box. */
export function stepPaths(series: WorkerSeries, top: number): { line: string; area: string } {
  const span = Math.max(1, series.to - series.from);
  const x = (ms: number) => (((ms - series.from) / span) * WIDTH).toFixed(1);
  const y = (n: number) => (HEIGHT - PAD - (n / Math.max(1, top)) * (HEIGHT - 2 * PAD)).toFixed(1);
  const [head, ...rest] = series.steps;
  if (!head) return { line: '', area: '' };
  let line = `M${x(head.at)} ${y(head.workers)}`;
  for (const s of rest) line += ` H${x(s.at)} V${y(s.workers)}`;
  line += ` H${WIDTH}`;
  const area = `${line} V${HEIGHT} H${x(head.at)} Z`;
  return { line, area };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The fleet panel: numbers in words and an accessible step chart. Re-sent over SSE while the page is open. */
export function workerPanel(pool: WorkerPoolStatus, now: Date): Html {
  const series = workerSeries(pool, now);
  // The chart's top is the job's maxTasks, so the height reads as "how close to the cap".
  const { line, area } = stepPaths(series, pool.maxTasks);
  const windowText = formatDuration(series.to - series.from);
  const id = `workers-${pool.job}`;
  const seen =
    series.low === series.high
      ? `steady at ${plural(series.low, 'worker')}`
      : `between ${series.low} and ${plural(series.high, 'worker')}`;
  const label = `Workers of ${pool.job} over the last ${windowText}: ${pool.running} now, ${seen}; it scales between ${pool.minTasks} and ${pool.maxTasks}.`;
  return html`<dl class="facts">
  <div><dt>Workers</dt><dd><span data-stat="workers">${pool.running}</span> running · ${pool.desired} wanted · range <span data-stat="worker-range">${pool.minTasks}–${pool.maxTasks}</span></dd></div>
</dl>
<figure class="workers-chart">
  <svg class="sparkline" viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-labelledby="${id}-title" data-current="${pool.running}">
    <title id="${id}-title">${label}</title>
    <path class="area" d="${area}"></path>
    <path class="line" d="${line}"></path>
  </svg>
  <figcaption class="axis" aria-hidden="true"><span>−${windowText}</span><span>${series.low === series.high ? `${series.low}` : `${series.low}–${series.high}`} · max ${pool.maxTasks}</span><span>now</span></figcaption>
</figure>`;
}
