/** Small formatting helpers shared by the views. Pure. */
import { formatDuration as formatCoreDuration } from '../core/duration.js';
import { isFinalStatus, type RunStatus } from '../core/lifecycle/states.js';
import type { RunRecord } from '../runtime/ports.js';
import { type Html, html } from './html.js';

/**
 * A duration as the CLI and the terminal view write it (`850ms`, `12s`, `4m5s`, `2h3m`: core's
 * `formatDuration`), or `—` when unknown. `assets/dashboard.js` repeats the same rules to tick running runs.
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  return formatCoreDuration(ms);
}

/** `2026-11-26 20:55:03 UTC`: stable text, the ISO value in `datetime` for the script and for machines. */
export function formatTime(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="none">—</span>`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return html`${iso}`;
  const text = `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  return html`<time datetime="${d.toISOString()}">${text}</time>`;
}

/** `$0.00042`; `—` when unknown. */
export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return '—';
  if (usd === 0) return '$0';
  return usd < 0.01 ? `$${usd.toPrecision(2)}` : `$${usd.toFixed(4)}`;
}

/** Milliseconds from creation to end (or to `now` while the run is still going). */
export function runDurationMs(run: RunRecord, now: Date): number {
  const start = Date.parse(run.createdAt);
  const end = run.endedAt ? Date.parse(run.endedAt) : now.getTime();
  return Math.max(0, end - start);
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

export function jobRunsHref(job: string): string {
  return `/runs?job=${encodeURIComponent(job)}`;
}
