/**
 * The job page's plots over time, rendered on the server as inline SVG: run durations, outcomes per day and
 * cost per day. Each plot is a `<figure>`: the SVG is one image (`role="img"`) named by a sentence that says
 * what it shows, a `<figcaption>` sums it up in words, and a data table (in a `<details>`) holds every number
 * the plot draws, for screen readers and for anyone who wants the values.
 */
import { formatCost, formatDuration, plural, utcText } from '../format.js';
import { type Html, html } from '../html.js';
import type { DayCost, DayOutcomes, DurationPoint } from '../stats.js';

/** Drawing box of every plot; the SVG scales to the width of its column. */
const W = 600;
const H = 150;
/** Room for the top of the tallest mark. */
const TOP = 6;

/** A round number at or above `max` for the top of an axis (1, 2, 5 × 10ⁿ). */
export function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function y(value: number, top: number): number {
  return H - (value / top) * (H - TOP);
}

function dayLabel(day: string): string {
  // `2026-11-26` → `Nov 26`
  const d = new Date(`${day}T00:00:00.000Z`);
  return d.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

function axis(left: string, middle: string, right: string): Html {
  return html`<div class="axis" aria-hidden="true"><span>${left}</span><span>${middle}</span><span>${right}</span></div>`;
}

/**
 * Run durations: one dot per run that ended, at its end time and its duration; the p50 as a line. A dot is a
 * zero-length path with a round cap and a stroke that does not scale, so it stays round however the plot is
 * stretched to its column.
 */
export function durationsPlot(options: {
  id: string;
  job: string;
  points: readonly DurationPoint[];
  from: Date;
  to: Date;
  /** How many days the window covers (the UTC days of the other plots). */
  days: number;
  p50Ms: number | null;
}): Html {
  const { id, points, from, to, days } = options;
  const span = Math.max(1, to.getTime() - from.getTime());
  const top = niceCeiling(Math.max(1, ...points.map((p) => p.ms)));
  const x = (iso: string) => ((Date.parse(iso) - from.getTime()) / span) * W;
  const longest = points.reduce<DurationPoint | undefined>((a, p) => (!a || p.ms > a.ms ? p : a), undefined);
  const summary = points.length
    ? `${plural(points.length, 'run')} ended in the last ${plural(days, 'day')}; median ${formatDuration(options.p50Ms)}, longest ${formatDuration(longest?.ms)}.`
    : `No run ended in the last ${plural(days, 'day')}.`;
  const label = `Run durations of ${options.job} over the last ${plural(days, 'day')}: ${summary}`;
  return html`<figure class="plot" id="${id}">
  <h3 id="${id}-h">Run durations</h3>
  <svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-labelledby="${id}-title" class="plot-svg">
    <title id="${id}-title">${label}</title>
    <line class="grid" x1="0" x2="${W}" y1="${y(top / 2, top).toFixed(1)}" y2="${y(top / 2, top).toFixed(1)}"></line>
    ${options.p50Ms !== null && points.length ? html`<line class="median" x1="0" x2="${W}" y1="${y(options.p50Ms, top).toFixed(1)}" y2="${y(options.p50Ms, top).toFixed(1)}"></line>` : ''}
    ${points.map((p) => html`<path class="dot status-${p.status}" d="M${x(p.at).toFixed(1)} ${y(p.ms, top).toFixed(1)}h0"></path>`)}
  </svg>
  ${axis(dayLabel(from.toISOString().slice(0, 10)), `top ${formatDuration(top)} · line: median`, 'now')}
  <figcaption>${summary}</figcaption>
  <details class="plot-data"><summary>Durations as a table</summary>
    <div class="table-wrap"><table>
      <caption class="visually-hidden">Run durations of ${options.job}, oldest first</caption>
      <thead><tr><th scope="col">Ended</th><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Duration</th></tr></thead>
      <tbody>${points.map((p) => html`<tr><td>${utcText(new Date(p.at))}</td><th scope="row"><code>${p.runId}</code></th><td>${p.status.replace('_', ' ')}</td><td>${formatDuration(p.ms)}</td></tr>`)}</tbody>
    </table></div>
  </details>
</figure>`;
}

/** Outcomes per day as stacked bars: succeeded at the bottom, failed on top of it, cancelled above. */
export function outcomesPlot(options: { id: string; job: string; days: readonly DayOutcomes[] }): Html {
  const { id, days } = options;
  const totals = days.map((d) => d.succeeded + d.failed + d.cancelled);
  const top = niceCeiling(Math.max(1, ...totals));
  const slot = W / Math.max(1, days.length);
  const bar = slot * 0.7;
  const sum = days.reduce(
    (a, d) => ({
      succeeded: a.succeeded + d.succeeded,
      failed: a.failed + d.failed,
      cancelled: a.cancelled + d.cancelled,
    }),
    { succeeded: 0, failed: 0, cancelled: 0 },
  );
  const worst = days.reduce<DayOutcomes | undefined>(
    (a, d) => (d.failed > (a?.failed ?? 0) ? d : a),
    undefined,
  );
  const summary = `${plural(days.length, 'day')}: ${sum.succeeded} succeeded, ${sum.failed} failed, ${sum.cancelled} cancelled${worst ? `; most failures on ${dayLabel(worst.day)} (${worst.failed})` : ''}.`;
  const label = `Outcomes per day of ${options.job}, the last ${summary}`;
  const rect = (cls: string, i: number, from: number, count: number) =>
    count
      ? html`<rect class="${cls}" x="${(i * slot + (slot - bar) / 2).toFixed(1)}" y="${y(from + count, top).toFixed(1)}" width="${bar.toFixed(1)}" height="${(y(from, top) - y(from + count, top)).toFixed(1)}"></rect>`
      : '';
  return html`<figure class="plot" id="${id}">
  <h3 id="${id}-h">Outcomes per day</h3>
  <svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-labelledby="${id}-title" class="plot-svg">
    <title id="${id}-title">${label}</title>
    ${days.map(
      (d, i) =>
        html`${rect('ok', i, 0, d.succeeded)}${rect('bad', i, d.succeeded, d.failed)}${rect('idle', i, d.succeeded + d.failed, d.cancelled)}`,
    )}
  </svg>
  ${axis(dayLabel(days[0]?.day ?? ''), `top ${plural(top, 'run')} a day`, dayLabel(days.at(-1)?.day ?? ''))}
  <figcaption>${summary} <span class="legend"><span class="key ok"></span>succeeded <span class="key bad"></span>failed <span class="key idle"></span>cancelled</span></figcaption>
  <details class="plot-data"><summary>Outcomes as a table</summary>
    <div class="table-wrap"><table>
      <caption class="visually-hidden">Outcomes per day of ${options.job}</caption>
      <thead><tr><th scope="col">Day (UTC)</th><th scope="col">Succeeded</th><th scope="col">Failed</th><th scope="col">Cancelled</th></tr></thead>
      <tbody>${days.map((d) => html`<tr><th scope="row">${d.day}</th><td>${d.succeeded}</td><td>${d.failed}</td><td>${d.cancelled}</td></tr>`)}</tbody>
    </table></div>
  </details>
</figure>`;
}

/** Fargate cost per day as bars; estimated days (no recorded cost: local runs) are marked as such. */
export function costPlot(options: {
  id: string;
  job: string;
  days: readonly DayCost[];
  /** Runs whose attempts were priced, when fewer than all in the window (the newest ones). */
  pricedRuns?: number;
}): Html {
  const { id, days } = options;
  const counted = days.filter((d) => d.counted);
  const total = counted.reduce((a, d) => a + d.usd, 0);
  const top = Math.max(...counted.map((d) => d.usd), 0);
  const axisTop = top > 0 ? top * 1.1 : 1;
  const slot = W / Math.max(1, days.length);
  const bar = slot * 0.7;
  const estimated = days.some((d) => d.estimated);
  const summary = `${formatCost(total)} over the last ${plural(counted.length, 'day')}${top > 0 ? `, at most ${formatCost(top)} a day` : ''}${estimated ? ' (estimated at Fargate prices: no cost was recorded)' : ''}${options.pricedRuns !== undefined ? `; priced from the newest ${plural(options.pricedRuns, 'run')}, so the ${plural(days.length - counted.length, 'earlier day')} before them ${days.length - counted.length === 1 ? 'is' : 'are'} not counted` : ''}.`;
  const label = `Cost per day of ${options.job}: ${summary}`;
  return html`<figure class="plot" id="${id}">
  <h3 id="${id}-h">Cost per day</h3>
  <svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-labelledby="${id}-title" class="plot-svg">
    <title id="${id}-title">${label}</title>
    ${days.map((d, i) =>
      !d.counted
        ? html`<rect class="uncounted" x="${(i * slot).toFixed(1)}" y="0" width="${slot.toFixed(1)}" height="${H}"></rect>`
        : d.usd > 0
          ? html`<rect class="cost${d.estimated ? ' estimated' : ''}" x="${(i * slot + (slot - bar) / 2).toFixed(1)}" y="${y(d.usd, axisTop).toFixed(1)}" width="${bar.toFixed(1)}" height="${(H - y(d.usd, axisTop)).toFixed(1)}"></rect>`
          : '',
    )}
  </svg>
  ${axis(dayLabel(days[0]?.day ?? ''), top > 0 ? `top ${formatCost(top)}` : 'no cost yet', dayLabel(days.at(-1)?.day ?? ''))}
  <figcaption>${summary}</figcaption>
  <details class="plot-data"><summary>Cost as a table</summary>
    <div class="table-wrap"><table>
      <caption class="visually-hidden">Cost per day of ${options.job}</caption>
      <thead><tr><th scope="col">Day (UTC)</th><th scope="col">Cost</th></tr></thead>
      <tbody>${days.map((d) => html`<tr><th scope="row">${d.day}</th><td>${d.counted ? `${d.estimated ? '≈ ' : ''}${formatCost(d.usd)}` : 'not counted'}</td></tr>`)}</tbody>
    </table></div>
  </details>
</figure>`;
}
