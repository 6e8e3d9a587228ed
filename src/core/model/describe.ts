/** Jobs in words, for `berth list`, the banner of `berth dev` and the dashboard. Pure. */
import { describeSchedule, windowedFireTimes } from '../schedule/index.js';
import type { Job, JobTrigger } from './job.js';

/** A trigger in words, for `berth list` and the dashboard. */
export function describeTrigger(t: JobTrigger): string {
  switch (t.kind) {
    case 's3': {
      const what = t.suffix ? `a ${t.suffix} object` : 'an object';
      return `when ${what} lands in s3://${t.bucket}/${t.prefix ?? ''}`;
    }
    case 'schedule':
      return describeSchedule(t.expression, t.timezone);
    case 'queue':
      if (t.mode === 'service') {
        const min = t.service?.minTasks ?? 1;
        const max = t.service?.maxTasks ?? 10;
        return `${min}–${max} workers polling ${t.existing ? `queue ${t.existing}` : 'its own queue'}`;
      }
      return t.existing ? `per message on queue ${t.existing}` : 'per message on its own queue';
    default: {
      const never: never = t;
      return String(never);
    }
  }
}

/** The next fire time of any of the job's schedules (inside its startDate/endDate window), or null. */
export function nextFire(job: Job, from: Date): Date | null {
  let best: Date | null = null;
  for (const t of job.triggers) {
    if (t.kind !== 'schedule') continue;
    const [next] = windowedFireTimes(t, from, 1);
    if (next && (!best || next < best)) best = next;
  }
  return best;
}

/** ISO-8601 with the zone's offset, e.g. `2026-11-27T02:00:00+09:00`. */
export { isoInZone } from '../schedule/index.js';
