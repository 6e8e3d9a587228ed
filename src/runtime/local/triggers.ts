/**
 * Trigger sources of the local engine besides the job queues (read by the pump): bucket folders under
 * `.berth/buckets/` and schedules. Each trigger is accepted in one transaction.
 */
import type { FSWatcher } from 'chokidar';
import type { TriggerPayload } from '../../core/lifecycle/trigger.js';
import { acceptTrigger } from '../lifecycle.js';
import {
  matchesS3Trigger,
  type S3ObjectCreatedEvent,
  s3TriggerPayload,
  watchBuckets,
  watchedBuckets,
} from './buckets.js';
import type { EngineContext } from './context.js';
import { type ScheduleFire, Scheduler } from './schedules.js';

export class Triggers {
  private readonly watchers: FSWatcher[] = [];
  /** Buckets whose folders are watched (a reload adds folders; a bucket no job uses any more matches nothing). */
  private readonly watched = new Set<string>();
  private scheduler: Scheduler | undefined;

  constructor(private readonly ctx: EngineContext) {}

  /** Watches the bucket folders the jobs listen to and starts the schedules (catching up missed fires). */
  async start(): Promise<void> {
    await this.watchNewBuckets();
    await this.startSchedules();
  }

  /**
   * After the job set changed (reload on change): schedules start again from the new set (a new schedule
   * starts, a removed one stops, an unchanged one carries on from its last fire), and the folders of buckets
   * no job watched before are watched. Prefix and suffix changes apply to the next file: matching reads the
   * current jobs.
   */
  async reload(): Promise<void> {
    this.scheduler?.stop();
    await this.startSchedules();
    await this.watchNewBuckets();
  }

  private async watchNewBuckets(): Promise<void> {
    const ctx = this.ctx;
    const buckets = watchedBuckets(ctx.jobs()).filter((b) => !this.watched.has(b));
    if (buckets.length === 0) return;
    for (const b of buckets) this.watched.add(b);
    this.watchers.push(
      await watchBuckets({
        bucketsDir: ctx.paths.buckets,
        buckets,
        onObject: (e) => void this.onObject(e),
        onError: (e) => ctx.log(`✖ bucket watcher: ${e.message}`),
      }),
    );
  }

  private async startSchedules(): Promise<void> {
    const ctx = this.ctx;
    this.scheduler = new Scheduler(
      ctx.db,
      [...ctx.jobs()],
      (f) => this.onSchedule(f),
      undefined,
      (e) => ctx.log(`✖ schedule: ${e.message}`),
    );
    await ctx.tx.run(() => this.scheduler?.start());
  }

  /** Stops the schedules (at once) and the bucket watcher. */
  stopSchedules(): void {
    this.scheduler?.stop();
  }

  async stopWatching(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.close()));
  }

  nextFireTimes(job: string, count: number): string[] {
    const j = this.ctx.job(job);
    if (!j || !this.scheduler) return [];
    return this.scheduler.nextFireTimes(j, count);
  }

  private async onObject(event: S3ObjectCreatedEvent): Promise<void> {
    for (const job of this.ctx.jobs()) {
      const match = job.triggers.some((t) => t.kind === 's3' && matchesS3Trigger(t, event));
      if (!match) continue;
      await this.ctx.tx.run(() => acceptTrigger(this.ctx.deps, job, s3TriggerPayload(event)));
    }
  }

  private async onSchedule(f: ScheduleFire): Promise<void> {
    const ctx = this.ctx;
    const trigger: TriggerPayload = {
      kind: 'schedule',
      scheduleId: f.schedule.id,
      scheduledTime: f.scheduledTime.toISOString(),
      ...(f.schedule.payload !== undefined ? { payload: f.schedule.payload } : {}),
    };
    const run = async () => {
      const result = await acceptTrigger(ctx.deps, f.job, trigger);
      f.markFired();
      if (result.status === 'skipped')
        ctx.log(`${f.job.name}: schedule fire at ${trigger.scheduledTime} skipped — ${result.reason}`);
      if (f.catchUp) ctx.log(`${f.job.name}: caught up one missed fire (${trigger.scheduledTime})`);
    };
    // At start the scheduler already runs inside a transaction.
    if (ctx.db.inTransaction) await run();
    else await ctx.tx.run(run);
  }
}
