/** Small formatting helpers shared by the views. Pure. */
import { formatDuration as formatCoreDuration } from '../core/duration.js';
import { isFinalStatus, type RunStatus } from '../core/lifecycle/states.js';
import { type Html, html } from './html.js';

export { runDurationMs } from './stats.js';

/**
 * A duration as the CLI and the terminal view write it (`850ms`, `12s`, `4m5s`, `2h3m`: core's
 * `formatDuration`), or `—` when unknown. `assets/dashboard.js` repeats the same rules to tick running runs.
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  return formatCoreDuration(ms);
}

/** `2026-11-26 20:55:03 UTC`: the absolute text every time on the pages uses. */
export function utcText(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * How far `ms` lies from now in words: `just now`, `12 s ago`, `4 min ago`, `3 h ago`, `2 days ago`, or
 * `in 5 min` for a time ahead. `assets/dashboard.js` repeats the same rules to keep the words current;
 * test/dashboard/format.test.ts checks that the two agree.
 */
export function formatRelative(ms: number): string {
  const ahead = ms > 0;
  const s = Math.round(Math.abs(ms) / 1000);
  let text: string;
  if (s < 5) return 'just now';
  if (s < 60) text = `${s} s`;
  else if (s < 3600) text = `${Math.floor(s / 60)} min`;
  else if (s < 86400) text = `${Math.floor(s / 3600)} h`;
  else {
    const d = Math.floor(s / 86400);
    text = `${d} ${d === 1 ? 'day' : 'days'}`;
  }
  return ahead ? `in ${text}` : `${text} ago`;
}

/**
 * A time as absolute text (UTC, `datetime` holds the ISO value for the script and for machines) with how long
 * ago (or how soon) it is beside it; hovering shows the UTC time. The script keeps the relative words current.
 */
export function formatTime(iso: string | null | undefined, now?: Date): Html {
  if (!iso) return html`<span class="none">—</span>`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return html`${iso}`;
  const text = utcText(d);
  const rel = now ? formatRelative(d.getTime() - now.getTime()) : undefined;
  return html`<time datetime="${d.toISOString()}" title="${text}">${text}</time>${rel ? html` <span class="ago" data-ago="${d.toISOString()}">${rel}</span>` : ''}`;
}

/** `1 run`, `3 runs`, `0 messages`: a count with its noun in the proper number. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * An image name (`123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:2026-11-26`) that wraps only after
 * `/` and `:`: each part is kept whole, with a break opportunity after each separator.
 */
export function imageName(name: string): Html {
  const parts = name.split(/(?<=[/:])/);
  return html`<code class="image">${parts.map((p, i) => html`${i ? html`<wbr>` : ''}<span>${p}</span>`)}</code>`;
}

/** `$0.00042`; `—` when unknown. */
export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return '—';
  if (usd === 0) return '$0';
  return usd < 0.01 ? `$${usd.toPrecision(2)}` : `$${usd.toFixed(4)}`;
}

const STATUS_WORDS: Record<RunStatus, string> = {
  queued: 'queued',
  launching: 'launching',
  running: 'running',
  retrying: 'retrying',
  succeeded: 'succeeded',
  failed: 'failed',
  timed_out: 'timed out',
  cancelled: 'cancelled',
};

export function statusWord(status: RunStatus): string {
  return STATUS_WORDS[status] ?? status;
}

/** A status badge: colour and a symbol, so the state does not rest on colour alone. */
export function statusBadge(status: RunStatus): Html {
  const symbol = isFinalStatus(status)
    ? status === 'succeeded'
      ? '✓'
      : status === 'cancelled'
        ? '⊘'
        : '✕'
    : status === 'retrying'
      ? '↻'
      : '•';
  return html`<span class="badge status-${status}"><span aria-hidden="true">${symbol}</span> ${statusWord(status)}</span>`;
}

/** A path segment or query value that is safe in a URL; the `html` tag still escapes it for the attribute. */
export function runHref(runId: string): string {
  return `/runs/${encodeURIComponent(runId)}`;
}

export function jobHref(job: string): string {
  return `/jobs/${encodeURIComponent(job)}`;
}

export function jobRunsHref(job: string): string {
  return `/runs?job=${encodeURIComponent(job)}`;
}
