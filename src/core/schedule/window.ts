/**
 * A schedule's StartDate/EndDate window, the way EventBridge Scheduler applies it (read in the schedule's
 * time zone; both ends inclusive): nothing fires before the start or after the end, and a `rate()` counts its
 * interval from the start when there is one. An `at()` schedule fires once and ignores the window (AWS: StartDate
 * and EndDate are "ignored for one-time schedules"). `berth schedule`, `berth list`, `berth validate` and the
 * local engine (`berth dev`) all use this one function.
 */
import { fireTimes } from './next.js';
import { parseScheduleExpression } from './parse.js';
import { instantOfZonedIso, isoInZone, resolveWallTime, wallMs } from './zone.js';

export interface WindowedSchedule {
  expression: string;
  timezone: string;
  startDate?: string | undefined;
  endDate?: string | undefined;
}

/** The schedule's StartDate/EndDate as instants (ms). */
export function scheduleWindow(s: WindowedSchedule): {
  startMs: number | undefined;
  endMs: number | undefined;
} {
  return {
    startMs: s.startDate ? instantOfZonedIso(s.startDate, s.timezone) : undefined,
    endMs: s.endDate ? instantOfZonedIso(s.endDate, s.timezone) : undefined,
  };
}

/**
 * Up to `count` fire times strictly after `from` inside the schedule's start/end window. A `rate()` counts
 * from its start date when it has one (AWS anchors it there), else from `anchor` (default: `from`).
 */
export function windowedFireTimes(s: WindowedSchedule, from: Date, count: number, anchor?: Date): Date[] {
  const ast = parseScheduleExpression(s.expression);
  if (ast.kind === 'at') return fireTimes(ast, { timezone: s.timezone, from, count });
  const { startMs, endMs } = scheduleWindow(s);
  const after = startMs !== undefined && startMs - 1 > from.getTime() ? new Date(startMs - 1) : from;
  const rateAnchor = ast.kind === 'rate' ? (startMs !== undefined ? new Date(startMs) : anchor) : undefined;
  const times = fireTimes(ast, {
    timezone: s.timezone,
    from: after,
    count,
    ...(rateAnchor ? { anchor: rateAnchor } : {}),
  });
  return endMs === undefined ? times : times.filter((t) => t.getTime() <= endMs);
}

/**
 * Why the schedule has no fire time after `from` (for a warning or `berth schedule`), naming the time:
 * `at(2020-01-01T09:00:00) was 2020-01-01T09:00:00+09:00, in the past`. `undefined` when it still fires.
 */
export function noFireReason(s: WindowedSchedule, from: Date): string | undefined {
  if (windowedFireTimes(s, from, 1).length > 0) return undefined;
  const ast = parseScheduleExpression(s.expression);
  if (ast.kind === 'at') {
    const at = resolveWallTime(wallMs(ast), s.timezone);
    return `${s.expression} was ${isoInZone(new Date(at), s.timezone)}, in the past`;
  }
  const { startMs, endMs } = scheduleWindow(s);
  if (endMs !== undefined && endMs <= from.getTime()) {
    return `the schedule's window ended at endDate ${s.endDate} (${isoInZone(new Date(endMs), s.timezone)}), in the past`;
  }
  if (ast.kind === 'cron') {
    const lastYear = ast.years.at(-1);
    const fromYear = Number(isoInZone(from, s.timezone).slice(0, 4));
    if (lastYear !== undefined && lastYear < fromYear) {
      return `${s.expression} names no year after ${lastYear}, which is in the past`;
    }
  }
  if (startMs !== undefined && endMs !== undefined) {
    return `${s.expression} has no fire time between startDate ${s.startDate} and endDate ${s.endDate} (${s.timezone})`;
  }
  return `${s.expression} has no fire time after ${isoInZone(from, s.timezone)}`;
}
