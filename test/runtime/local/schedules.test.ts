import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../../src/core/model/job.js';
import { validateJob } from '../../../src/core/model/validate.js';
import { type Db, openDevDb } from '../../../src/runtime/local/db.js';
import { type ScheduleFire, Scheduler } from '../../../src/runtime/local/schedules.js';
import { REPO } from './harness.js';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = join(REPO, '.tmp', `schedules-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  db = openDevDb(join(dir, 'dev.db'));
});
afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function scheduledJob(schedule: Record<string, unknown>): Job {
  const parsed = validateJob(
    { name: 'report', task: { image: 'node:22', command: ['node', 'r.mjs'] }, trigger: { schedule } },
    'jobs/report.ts',
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.job;
}

/** A scheduler on a clock the test sets; `fires` collects what it fires. */
function schedulerAt(job: Job, clock: { now: Date }) {
  const fires: ScheduleFire[] = [];
  const scheduler = new Scheduler(
    db,
    [job],
    async (f) => {
      fires.push(f);
      f.markFired();
    },
    () => clock.now,
  );
  return { scheduler, fires };
}

describe('local schedules: startDate and endDate', () => {
  const daily = {
    expression: 'cron(0 2 * * ? *)',
    timezone: 'Asia/Seoul',
    startDate: '2027-01-10T00:00:00',
    endDate: '2027-01-12T02:00:00',
  };

  it('fires nothing before the start or after the end (dates read in the zone, end inclusive)', () => {
    const job = scheduledJob(daily);
    const { scheduler } = schedulerAt(job, { now: new Date('2027-01-01T00:00:00Z') });
    expect(scheduler.nextFireTimes(job, 10)).toEqual([
      '2027-01-09T17:00:00.000Z', // 2027-01-10 02:00 in Seoul
      '2027-01-10T17:00:00.000Z',
      '2027-01-11T17:00:00.000Z', // 2027-01-12 02:00, the end date itself
    ]);
  });

  it('has no fire times once the end date has passed', () => {
    const job = scheduledJob(daily);
    const { scheduler } = schedulerAt(job, { now: new Date('2027-01-11T17:00:01Z') });
    expect(scheduler.nextFireTimes(job, 3)).toEqual([]);
  });

  it('an explicit offset wins over the zone', () => {
    const job = scheduledJob({ ...daily, startDate: '2027-01-10T03:00:00+09:00' });
    const { scheduler } = schedulerAt(job, { now: new Date('2027-01-01T00:00:00Z') });
    expect(scheduler.nextFireTimes(job, 1)).toEqual(['2027-01-10T17:00:00.000Z']);
  });

  it('counts a rate() from its start date, read in the zone', () => {
    const job = scheduledJob({
      expression: 'rate(1 hour)',
      timezone: 'Europe/Berlin',
      startDate: '2027-01-10T09:30:00',
    });
    const { scheduler } = schedulerAt(job, { now: new Date('2027-01-01T00:00:00Z') });
    expect(scheduler.nextFireTimes(job, 2)).toEqual(['2027-01-10T08:30:00.000Z', '2027-01-10T09:30:00.000Z']);
  });

  it('a catch-up after downtime stays inside the window: the last fire before the end, once', async () => {
    const job = scheduledJob(daily);
    const clock = { now: new Date('2027-01-09T00:00:00Z') };
    const first = schedulerAt(job, clock);
    await first.scheduler.start();
    first.scheduler.stop();
    expect(first.fires).toEqual([]);

    // Down from before the start until well after the end: one catch-up, for the end date's fire.
    clock.now = new Date('2027-02-01T00:00:00Z');
    const second = schedulerAt(job, clock);
    await second.scheduler.start();
    second.scheduler.stop();
    expect(second.fires.map((f) => [f.scheduledTime.toISOString(), f.catchUp])).toEqual([
      ['2027-01-11T17:00:00.000Z', true],
    ]);
    expect(second.scheduler.nextFireTimes(job, 1)).toEqual([]);
  });

  it('a downtime that ends before the start date catches up nothing', async () => {
    const job = scheduledJob(daily);
    const clock = { now: new Date('2027-01-01T00:00:00Z') };
    const first = schedulerAt(job, clock);
    await first.scheduler.start();
    first.scheduler.stop();
    clock.now = new Date('2027-01-09T16:59:59Z'); // one second before the first fire
    const second = schedulerAt(job, clock);
    await second.scheduler.start();
    second.scheduler.stop();
    expect(second.fires).toEqual([]);
  });

  it('without dates a schedule is unbounded', () => {
    const job = scheduledJob({ expression: 'cron(0 2 * * ? *)', timezone: 'Asia/Seoul' });
    const { scheduler } = schedulerAt(job, { now: new Date('2027-01-01T00:00:00Z') });
    expect(scheduler.nextFireTimes(job, 2)).toEqual(['2027-01-01T17:00:00.000Z', '2027-01-02T17:00:00.000Z']);
  });
});
