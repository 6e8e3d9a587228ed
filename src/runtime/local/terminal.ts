/**
 * What `berth dev` prints: a banner, then a live table of active runs (job, attempt, status, duration)
 * redrawn in place on a TTY, with finished runs scrolling above it. Plain lines when stdout is not a TTY or
 * `CI` is set.
 */
import pc from 'picocolors';
import { formatDuration } from '../../core/duration.js';
import type { OutcomeEvent } from '../../core/lifecycle/events.js';
import { isFinalStatus, type RunStatus } from '../../core/lifecycle/states.js';
import type { RunRecord } from '../ports.js';

export type TerminalMode = 'live' | 'plain' | 'quiet';

/** What the view writes to: `process.stdout` by default, a fake in tests. */
export interface TerminalStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Live (redrawn in place) on a TTY, plain lines when piped or when `CI` is set. */
export function defaultTerminalMode(
  stream: TerminalStream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): TerminalMode {
  return stream.isTTY && !env.CI ? 'live' : 'plain';
}

export function colorStatus(status: RunStatus | string): string {
  switch (status) {
    case 'succeeded':
      return pc.green(status);
    case 'failed':
    case 'timed_out':
      return pc.red(status);
    case 'retrying':
      return pc.yellow(status);
    case 'running':
    case 'launching':
      return pc.cyan(status);
    case 'cancelled':
      return pc.magenta(status);
    default:
      return pc.dim(status);
  }
}

/** One line for an outcome event. */
export function eventLine(e: OutcomeEvent): string {
  const d = e.detail;
  const time = e.time.slice(11, 19);
  const dur = d.durationMs !== null ? ` ${pc.dim(formatDuration(d.durationMs))}` : '';
  const head = `${pc.dim(time)} ${pc.bold(d.job.padEnd(16))} ${pc.dim(d.runId)} #${d.attempt}`;
  const what = e['detail-type'].replace('Job Run ', '').toLowerCase();
  const status = colorStatus(what === 'timed out' ? 'timed_out' : what);
  const extra: string[] = [];
  const started = e['detail-type'] === 'Job Run Started';
  if (!started && d.outcome && d.outcome !== 'succeeded') extra.push(d.outcome);
  if (!started && d.exitCode !== null && d.exitCode !== 0) extra.push(`exit ${d.exitCode}`);
  if (d.nextAttemptAt) extra.push(`next attempt ${d.nextAttemptAt.slice(11, 19)}`);
  if (what === 'started') extra.push(d.trigger.summary);
  else if (d.reason && what !== 'succeeded') extra.push(d.reason);
  return `${head} ${status}${dur}${extra.length ? ` ${pc.dim(extra.filter(Boolean).join(' · '))}` : ''}`;
}

export class TerminalView {
  private readonly active = new Map<string, RunRecord>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly mode: TerminalMode,
    private readonly out: TerminalStream = process.stdout,
    private readonly now: () => number = Date.now,
  ) {
    if (mode === 'live') {
      this.timer = setInterval(() => this.redraw(), 500);
      this.timer.unref();
    }
  }

  print(line: string): void {
    if (this.mode === 'quiet') return;
    if (this.mode === 'live') this.clear();
    this.out.write(`${line}\n`);
    if (this.mode === 'live') this.draw();
  }

  onEvent(e: OutcomeEvent): void {
    this.print(eventLine(e));
  }

  onRun(run: RunRecord): void {
    if (isFinalStatus(run.status)) this.active.delete(run.runId);
    else this.active.set(run.runId, run);
    if (this.mode === 'live') this.redraw();
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    if (this.active.size === 0) return;
    const now = this.now();
    const rows = [...this.active.values()].slice(0, 15).map((r) => {
      const since =
        r.status === 'retrying' && r.nextAttemptAt
          ? `waits until ${r.nextAttemptAt.slice(11, 19)}`
          : formatDuration(now - Date.parse(r.updatedAt));
      return `  ${pc.dim('│')} ${r.job.padEnd(16)} #${r.attempt}/${r.maxAttempts}  ${colorStatus(r.status).padEnd(19)} ${pc.dim(since)}`;
    });
    if (this.active.size > 15) rows.push(`  ${pc.dim(`│ … and ${this.active.size - 15} more`)}`);
    const text = `${pc.dim(`  ┌ ${this.active.size} active run${this.active.size === 1 ? '' : 's'}`)}\n${rows.join('\n')}\n`;
    this.out.write(text);
    this.drawn = rows.length + 1;
  }

  private redraw(): void {
    this.clear();
    this.draw();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.mode === 'live') this.clear();
  }
}
