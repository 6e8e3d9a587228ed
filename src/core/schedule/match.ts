/** Does a wall-clock time satisfy an AWS cron expression? The reference semantics for L, W and #. */
import type { CronDayOfMonth, CronDayOfWeek, CronScheduleAst } from './ast.js';
import type { WallTime } from './zone.js';

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 0 = Sunday … 6 = Saturday. */
function weekdayOf(year: number, month: number, day: number): number {
  const d = new Date(Date.UTC(2000, month - 1, day));
  d.setUTCFullYear(year);
  return d.getUTCDay();
}

/** The last Monday-Friday of the month. */
export function lastWeekdayOfMonth(year: number, month: number): number {
  const last = daysInMonth(year, month);
  const wd = weekdayOf(year, month, last);
  return wd === 6 ? last - 1 : wd === 0 ? last - 2 : last;
}

/**
 * `dayW`: the Monday-Friday nearest `day`, without leaving the month (Quartz rules, which AWS follows):
 * a Saturday moves to Friday, except the 1st, which moves to Monday the 3rd; a Sunday moves to Monday,
 * except the last day, which moves to Friday. `undefined` when the month has no such day (31W in April).
 */
export function nearestWeekday(year: number, month: number, day: number): number | undefined {
  const last = daysInMonth(year, month);
  if (day > last) return undefined;
  const wd = weekdayOf(year, month, day);
  if (wd === 6) return day === 1 ? 3 : day - 1;
  if (wd === 0) return day === last ? day - 2 : day + 1;
  return day;
}

export function matchesDayOfMonth(dom: CronDayOfMonth, year: number, month: number, day: number): boolean {
  switch (dom.type) {
    case 'unspecified':
      return true;
    case 'days':
      return dom.days.includes(day);
    case 'last':
      return day === daysInMonth(year, month);
    case 'lastWeekday':
      return day === lastWeekdayOfMonth(year, month);
    case 'nearestWeekday':
      return day === nearestWeekday(year, month, dom.day);
  }
}

export function matchesDayOfWeek(dow: CronDayOfWeek, year: number, month: number, day: number): boolean {
  if (dow.type === 'unspecified') return true;
  const awsDay = weekdayOf(year, month, day) + 1; // AWS: 1 = Sunday
  switch (dow.type) {
    case 'days':
      return dow.days.includes(awsDay);
    case 'last':
      return awsDay === dow.day && day + 7 > daysInMonth(year, month);
    case 'nth':
      return awsDay === dow.day && Math.ceil(day / 7) === dow.nth;
  }
}

/** True when the wall-clock minute `wall` is one the expression names (seconds are ignored). */
export function matchesCron(ast: CronScheduleAst, wall: WallTime): boolean {
  return (
    ast.minutes.includes(wall.minute) &&
    ast.hours.includes(wall.hour) &&
    ast.months.includes(wall.month) &&
    ast.years.includes(wall.year) &&
    matchesDayOfMonth(ast.dayOfMonth, wall.year, wall.month, wall.day) &&
    matchesDayOfWeek(ast.dayOfWeek, wall.year, wall.month, wall.day)
  );
}

/**
 * The first date (in the expression's own years) whose day fields match, or `undefined` when no date ever
 * does (`cron(0 2 30 2 ? *)`: February has no 30th). Hours and minutes always hold a value, so a cron fires
 * exactly when some date matches.
 */
export function firstMatchingDate(
  ast: Pick<CronScheduleAst, 'dayOfMonth' | 'dayOfWeek' | 'months' | 'years'>,
): { year: number; month: number; day: number } | undefined {
  for (const year of ast.years) {
    for (const month of ast.months) {
      const last = daysInMonth(year, month);
      for (let day = 1; day <= last; day++) {
        if (
          matchesDayOfMonth(ast.dayOfMonth, year, month, day) &&
          matchesDayOfWeek(ast.dayOfWeek, year, month, day)
        ) {
          return { year, month, day };
        }
      }
    }
  }
  return undefined;
}
