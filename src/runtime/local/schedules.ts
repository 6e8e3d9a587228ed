/**
 * Schedules fire from the core's EventBridge Scheduler maths (`nextFireTimes`) in the job's time zone.
 *
 * Catch-up policy after downtime: fire times missed while the engine was down are collapsed into ONE run,
 * for the most recent missed time (its `scheduledTime` says which), never a storm. A schedule the engine
 * has never seen starts from now and does not look back. The last fire time is stored with the run it
 * created, in the same transaction, so a crash neither repeats nor loses a fire.
 *
 * `startDate` and `endDate` bound the fire times as AWS Scheduler's StartDate/EndDate do (read in the
 * schedule's zone; both ends inclusive here): nothing fires before the start or after the end, a `rate()`
 * counts its interval from the start, and a catch-up never reaches outside the window. `flexibleWindow`
 * is not applied locally: a fire happens at its exact time (the window only spreads load on AWS).
 */

import type { Job, JobTrigger } from '../../core/model/job.js';
import { windowedFireTimes } from '../../core/schedule/index.js';
import type { Db } from './db.js';

export type ScheduleTriggerOf = Extract<JobTrigger, { kind: 'schedule' }>;

export interface ScheduleFire {
  job: Job;
  schedule: ScheduleTriggerOf;
  scheduledTime: Date;
  /** True for the single catch-up fire after downtime. */
  catchUp: boolean;
  /** Call inside the transaction that accepts the run: records the fire as done. */
  markFired: () => void;
}

/** Longest setTimeout Node accepts. */
const MAX_TIMER_MS = 2_147_483_647;
/** Missed fire times scanned after downtime, at most (a week of `rate(1 minute)`). */
const MAX_MISSED_SCAN = 20_000;

interface StateRow {
  expression: string;
  anchor: string;
  last_fire: string;
}

export class Scheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly jobs: readonly Job[],
    private readonly fire: (f: ScheduleFire) => Promise<void>,
    private readonly now: () => Date = () => new Date(),
    private readonly onError: (error: Error) => void = () => {},
  ) {}

  /** Every schedule of every job. */
  schedules(): { job: Job; schedule: ScheduleTriggerOf }[] {
    return this.jobs.flatMap((job) =>
      job.triggers
        .filter((t): t is ScheduleTriggerOf => t.kind === 'schedule')
        .map((schedule) => ({ job, schedule })),
    );
  }

  private state(job: Job, s: ScheduleTriggerOf): StateRow {
    const now = this.now().toISOString();
    const row = this.db
      .prepare('SELECT expression, anchor, last_fire FROM schedules WHERE job = ? AND schedule_id = ?')
      .get(job.name, s.id) as StateRow | undefined;
    if (row && row.expression === `${s.expression} ${s.timezone}`) return row;
    // New (or changed) schedule: starts now, no look-back.
    this.db
      .prepare(
        'INSERT OR REPLACE INTO schedules (job, schedule_id, expression, anchor, last_fire) VALUES (?, ?, ?, ?, ?)',
      )
      .run(job.name, s.id, `${s.expression} ${s.timezone}`, now, now);
    return { expression: `${s.expression} ${s.timezone}`, anchor: now, last_fire: now };
  }

  private markFiredFn(job: Job, s: ScheduleTriggerOf, at: Date): () => void {
    return () => {
      this.db
        .prepare('UPDATE schedules SET last_fire = ? WHERE job = ? AND schedule_id = ? AND last_fire < ?')
        .run(at.toISOString(), job.name, s.id, at.toISOString());
    };
  }

  /** The next `count` fire times of a job (all its schedules, merged), ISO UTC. */
  nextFireTimes(job: Job, count: number): string[] {
    const from = this.now();
    return job.triggers
      .filter((t): t is ScheduleTriggerOf => t.kind === 'schedule')
      .flatMap((s) => windowedFireTimes(s, from, count, this.anchorOf(job, s)))
      .sort((a, b) => a.getTime() - b.getTime())
      .slice(0, count)
      .map((d) => d.toISOString());
  }

  private anchorOf(job: Job, s: ScheduleTriggerOf): Date | undefined {
    if (!s.expression.startsWith('rate(')) return undefined;
    const row = this.db
      .prepare('SELECT anchor FROM schedules WHERE job = ? AND schedule_id = ?')
      .get(job.name, s.id) as { anchor: string } | undefined;
    return row ? new Date(row.anchor) : undefined;
  }

  /** The most recent fire time in (lastFire, now], if any. */
  missedFire(s: ScheduleTriggerOf, state: StateRow): Date | undefined {
    const now = this.now().getTime();
    let from = new Date(state.last_fire);
    const anchor = s.expression.startsWith('rate(') ? new Date(state.anchor) : undefined;
    let latest: Date | undefined;
    for (let scanned = 0; scanned < MAX_MISSED_SCAN; scanned += 500) {
      const times = windowedFireTimes(s, from, 500, anchor);
      const due = times.filter((t) => t.getTime() <= now);
      if (due.length > 0) latest = due[due.length - 1];
      if (due.length < times.length || times.length < 500) break;
      from = times[times.length - 1] as Date;
    }
    return latest;
  }

  async start(): Promise<void> {
    for (const { job, schedule } of this.schedules()) {
      const state = this.state(job, schedule);
      const missed = this.missedFire(schedule, state);
      if (missed) {
        try {
          await this.fire({
            job,
            schedule,
            scheduledTime: missed,
            catchUp: true,
            markFired: this.markFiredFn(job, schedule, missed),
          });
        } catch (error) {
          this.onError(error as Error);
        }
      }
      this.arm(job, schedule);
    }
  }

  private arm(job: Job, s: ScheduleTriggerOf): void {
    if (this.stopped) return;
    const key = `${job.name}#${s.id}`;
    const now = this.now();
    const anchor = this.anchorOf(job, s);
    const [next] = windowedFireTimes(s, now, 1, anchor);
    if (!next) return; // past its end date (or a one-off already fired)
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, next.getTime() - now.getTime()));
    const timer = setTimeout(async () => {
      if (this.now().getTime() < next.getTime()) return this.arm(job, s);
      try {
        await this.fire({
          job,
          schedule: s,
          scheduledTime: next,
          catchUp: false,
          markFired: this.markFiredFn(job, s, next),
        });
      } catch (error) {
        this.onError(error as Error);
      }
      this.arm(job, s);
    }, wait);
    timer.unref();
    this.timers.set(key, timer);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
