/**
 * Pure aggregations over a job's runs for the jobs table and the job page: success rate, duration
 * percentiles, outcomes per day and cost per day. No I/O: the caller passes the runs (and, for cost, each
 * run's attempts) it read from the dashboard's source.
 */
import { estimateFargateCost } from '../core/fargate.js';
import { isFinalStatus, type RunStatus } from '../core/lifecycle/states.js';
import type { Job } from '../core/model/job.js';
import { isEc2Capacity } from '../core/model/task.js';
import type { AttemptRecord, RunRecord } from '../runtime/ports.js';

const DAY_MS = 86_400_000;

/** Statuses a run ends in that count against the success rate (a cancelled run is a person's choice). */
const FAILED: readonly RunStatus[] = ['failed', 'timed_out'];

export function isFailed(run: RunRecord): boolean {
  return FAILED.includes(run.status);
}

/** Milliseconds from creation to end (or to `now` while the run is still going). */
export function runDurationMs(run: RunRecord, now: Date): number {
  const start = Date.parse(run.createdAt);
  const end = run.endedAt ? Date.parse(run.endedAt) : now.getTime();
  return Math.max(0, end - start);
}

/**
 * The `q` quantile (0–1) of `values` by the nearest-rank method: the smallest value with at least `q` of the
 * values at or below it (p50 of [1, 2, 3, 4] is 2, p95 of 20 values is the 19th). `null` for no values.
 */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? null;
}

export interface JobSummary {
  /** Runs that ended: succeeded, failed, timed out or cancelled. */
  finished: number;
  succeeded: number;
  /** Failed or timed out. */
  failed: number;
  cancelled: number;
  /** Queued, launching, running or retrying. */
  active: number;
  /** succeeded / (succeeded + failed), 0–1; null when no run has succeeded or failed yet. */
  successRate: number | null;
  /** Duration percentiles of the runs that ended (creation to end), ms; null without such runs. */
  p50Ms: number | null;
  p95Ms: number | null;
}

/** The numbers of one row of the jobs table, over the runs given (the job's recent ones). */
export function summarize(runs: readonly RunRecord[]): JobSummary {
  let succeeded = 0;
  let failed = 0;
  let cancelled = 0;
  let active = 0;
  const durations: number[] = [];
  for (const run of runs) {
    if (!isFinalStatus(run.status)) {
      active++;
      continue;
    }
    if (run.status === 'succeeded') succeeded++;
    else if (run.status === 'cancelled') cancelled++;
    else failed++;
    if (run.endedAt) durations.push(Math.max(0, Date.parse(run.endedAt) - Date.parse(run.createdAt)));
  }
  const decided = succeeded + failed;
  return {
    finished: succeeded + failed + cancelled,
    succeeded,
    failed,
    cancelled,
    active,
    successRate: decided === 0 ? null : succeeded / decided,
    p50Ms: quantile(durations, 0.5),
    p95Ms: quantile(durations, 0.95),
  };
}

/** Ids of the runs that some run among `runs` replays or redrives. */
export function replayedIds(runs: readonly RunRecord[]): Set<string> {
  const out = new Set<string>();
  for (const r of runs) if (r.replayOf) out.add(r.replayOf);
  return out;
}

/**
 * Failed or timed-out runs no run replays yet: what "Replay all failed" would replay (the engine's rule),
 * judged from the runs given.
 */
export function unreplayedFailures(runs: readonly RunRecord[]): RunRecord[] {
  const replayed = replayedIds(runs);
  return runs.filter((r) => isFailed(r) && !replayed.has(r.runId));
}

/** Dead-lettered runs no run replays yet: the ones a Redrive button still makes sense for. */
export function stillDeadLettered(runs: readonly RunRecord[]): RunRecord[] {
  const replayed = replayedIds(runs);
  return runs.filter((r) => r.deadLettered && !replayed.has(r.runId));
}

/** The UTC day (`YYYY-MM-DD`) of an ISO time. */
export function utcDay(iso: string): string {
  return new Date(iso).toISOString().slice(0, 10);
}

/** The `days` UTC days ending with the day of `now`, oldest first. */
export function lastDays(now: Date, days: number): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const out: string[] = [];
  for (let i = days - 1; i >= 0; i--) out.push(new Date(today - i * DAY_MS).toISOString().slice(0, 10));
  return out;
}

export interface DayOutcomes {
  day: string;
  succeeded: number;
  /** Failed or timed out. */
  failed: number;
  cancelled: number;
}

/** Runs that ended on each of the `days` UTC days up to `now`, by how they ended (oldest day first). */
export function outcomesPerDay(runs: readonly RunRecord[], now: Date, days: number): DayOutcomes[] {
  const out = lastDays(now, days).map((day) => ({ day, succeeded: 0, failed: 0, cancelled: 0 }));
  const byDay = new Map(out.map((d) => [d.day, d]));
  for (const run of runs) {
    if (!run.endedAt || !isFinalStatus(run.status)) continue;
    const d = byDay.get(utcDay(run.endedAt));
    if (!d) continue;
    if (run.status === 'succeeded') d.succeeded++;
    else if (run.status === 'cancelled') d.cancelled++;
    else d.failed++;
  }
  return out;
}

export interface DurationPoint {
  runId: string;
  /** When the run ended (ISO). */
  at: string;
  ms: number;
  status: RunStatus;
}

/** Runs that ended since `from`, oldest first, with their durations: the points of the durations plot. */
export function durationPoints(runs: readonly RunRecord[], from: Date): DurationPoint[] {
  const since = from.getTime();
  return runs
    .filter((r) => r.endedAt && isFinalStatus(r.status) && Date.parse(r.endedAt) >= since)
    .map((r) => ({
      runId: r.runId,
      at: r.endedAt as string,
      ms: Math.max(0, Date.parse(r.endedAt as string) - Date.parse(r.createdAt)),
      status: r.status,
    }))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

// ---- cost ----------------------------------------------------------------------------------------

/** What an attempt cost: recorded by AWS, estimated for Fargate, or nothing Fargate bills (EC2). */
export type AttemptCost =
  | { kind: 'recorded'; usd: number }
  | { kind: 'estimate'; usd: number; spot: boolean }
  | { kind: 'ec2' };

/** Capacities a local attempt records: they say nothing about where the job runs on AWS. */
const LOCAL_CAPACITIES = new Set(['local', 'docker']);

function attemptEndMs(a: AttemptRecord, now: Date): number {
  return a.stoppedAt ? Date.parse(a.stoppedAt) : now.getTime();
}

/** How long an attempt ran: recorded, or from its start (launch) to its stop (or now). */
export function attemptDurationMs(a: AttemptRecord, now: Date): number {
  if (a.durationMs !== null) return a.durationMs;
  const start = a.startedAt ?? a.launchedAt;
  return Math.max(0, attemptEndMs(a, now) - Date.parse(start));
}

/**
 * Where the attempt ran, for the cost: its recorded capacity when it ran on AWS (`FARGATE_SPOT_WITH_FALLBACK`
 * records the one ECS chose), otherwise the job's setting. A Spot-with-fallback job estimated locally counts
 * as Spot: that is where it runs unless Spot has no room.
 */
function capacityOf(a: AttemptRecord, job: Job | undefined): 'FARGATE' | 'FARGATE_SPOT' | 'EC2' | undefined {
  if (a.capacity === 'FARGATE' || a.capacity === 'FARGATE_SPOT') return a.capacity;
  // An EC2 capacity provider (berth-<service>-<stage>-ec2) or the EC2 launch type.
  if (a.capacity && !LOCAL_CAPACITIES.has(a.capacity)) return 'EC2';
  if (!job) return undefined;
  const c = job.task.capacity;
  if (isEc2Capacity(c)) return 'EC2';
  return c === 'FARGATE' ? 'FARGATE' : 'FARGATE_SPOT';
}

/**
 * The attempt's recorded cost (AWS), or what it would have cost on Fargate (on-demand or Spot) at the job's
 * size when none was recorded (local runs): per second from start to stop, one-minute minimum. EC2 attempts
 * have no Fargate cost: an instance's cost is shared by its tasks.
 */
export function attemptCost(a: AttemptRecord, job: Job | undefined, now: Date): AttemptCost | null {
  if (a.costUsd !== null) return { kind: 'recorded', usd: a.costUsd };
  const capacity = capacityOf(a, job);
  if (capacity === 'EC2') return { kind: 'ec2' };
  if (!job || !capacity || a.status !== 'ended') return null;
  const spot = capacity === 'FARGATE_SPOT';
  const usd = estimateFargateCost({
    cpu: job.task.cpu,
    memory: job.task.memory,
    architecture: job.task.architecture,
    seconds: attemptDurationMs(a, now) / 1000,
    spot,
    ...(job.task.ephemeralStorageGiB !== undefined
      ? { ephemeralStorageGiB: job.task.ephemeralStorageGiB }
      : {}),
  });
  return { kind: 'estimate', usd, spot };
}

/** The run's cost: the sum of its attempts', an estimate when any part is one. */
export function runCost(costs: readonly (AttemptCost | null)[]): AttemptCost | null {
  const priced = costs.filter(
    (c): c is Exclude<AttemptCost, { kind: 'ec2' }> => c !== null && c.kind !== 'ec2',
  );
  if (priced.length === 0) return costs.some((c) => c?.kind === 'ec2') ? { kind: 'ec2' } : null;
  const usd = priced.reduce((sum, c) => sum + c.usd, 0);
  const estimates = priced.filter((c) => c.kind === 'estimate');
  if (estimates.length === 0) return { kind: 'recorded', usd };
  return { kind: 'estimate', usd, spot: estimates.every((c) => c.spot) };
}

export interface DayCost {
  day: string;
  usd: number;
  /** Whether any part of the day's sum is an estimate (no cost recorded: local runs). */
  estimated: boolean;
  /** False for a day before the attempts read cover (its sum would be partial): not drawn. */
  counted: boolean;
}

/**
 * Fargate cost of the attempts that stopped on each of the `days` UTC days up to `now` (oldest day first):
 * recorded costs where AWS gave one, estimates otherwise; EC2 attempts add nothing. `countedFrom` (a UTC day):
 * the attempts given cover only the days from it on; earlier days are not counted.
 */
export function costPerDay(
  attempts: readonly AttemptRecord[],
  job: Job | undefined,
  now: Date,
  days: number,
  countedFrom?: string,
): DayCost[] {
  const out = lastDays(now, days).map((day) => ({
    day,
    usd: 0,
    estimated: false,
    counted: countedFrom === undefined || day >= countedFrom,
  }));
  const byDay = new Map(out.map((d) => [d.day, d]));
  for (const a of attempts) {
    if (!a.stoppedAt) continue;
    const d = byDay.get(utcDay(a.stoppedAt));
    if (!d?.counted) continue;
    const cost = attemptCost(a, job, now);
    if (!cost || cost.kind === 'ec2') continue;
    d.usd += cost.usd;
    if (cost.kind === 'estimate') d.estimated = true;
  }
  return out;
}
