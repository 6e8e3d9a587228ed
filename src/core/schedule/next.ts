/**
 * Fire times of a schedule expression, the way EventBridge Scheduler fires them.
 *
 * DST (AWS re:Post "How can I adjust my EventBridge schedule for daylight saving?", AWS official):
 * "When the time shifts forward in Spring, your schedule invocation gets skipped if the cron expression
 * falls on a non-existent date and time. When the time shifts back in the Fall, your schedule runs only
 * once and doesn't repeat its invocation." So for cron:
 * - a wall time inside a spring-forward gap does not fire (croner would fire a fixed-time job at the
 *   end of the gap instead; such results are dropped because their wall clock does not match);
 * - a wall time that occurs twice fires once, at its first occurrence (croner fires interval jobs on
 *   both; the second is dropped). This applies to every cron, `0/15 * …` included.
 * `rate()` is elapsed time: the same page says a `days` rate fires 24 hours after the last invocation
 * whatever DST does, so rate fire times are `anchor + k × interval`. AWS anchors a rate schedule at its
 * StartDate, or at its creation when there is none ("starts invoking the target immediately").
 * `at()` in a gap or overlap is not documented; it is resolved as croner resolves a date: the earlier
 * instant in an overlap, the time shifted forward by the gap's length in a gap.
 */
import { Cron } from 'croner';
import type { AtScheduleAst, CronScheduleAst, RateScheduleAst, ScheduleAst } from './ast.js';
import { matchesCron } from './match.js';
import { instantsOfWallTime, offsetAt, resolveWallTime, wallMs, wallTimeAt } from './zone.js';

export interface NextFireTimesOptions {
  /** IANA time zone the expression is read in. */
  timezone: string;
  /** Fire times strictly after this instant are returned. */
  from: Date;
  /** How many fire times, at most. */
  count: number;
  /**
   * `rate()` only: an instant the schedule fires at, from which the interval is counted (AWS: the
   * schedule's StartDate, or its creation time). Defaults to `from`, so the first time is `from + interval`.
   */
  anchor?: Date;
}

export function fireTimes(ast: ScheduleAst, options: NextFireTimesOptions): Date[] {
  if (options.count <= 0) return [];
  switch (ast.kind) {
    case 'rate':
      return rateTimes(ast, options);
    case 'at':
      return atTimes(ast, options);
    case 'cron':
      return cronTimes(ast, options);
  }
}

function rateTimes(ast: RateScheduleAst, { from, count, anchor = from }: NextFireTimesOptions): Date[] {
  const start = anchor.getTime();
  const after = from.getTime();
  const first = start > after ? 0 : Math.floor((after - start) / ast.intervalMs) + 1;
  return Array.from({ length: count }, (_, i) => new Date(start + (first + i) * ast.intervalMs));
}

function atTimes(ast: AtScheduleAst, { timezone, from }: NextFireTimesOptions): Date[] {
  const at = resolveWallTime(wallMs(ast), timezone);
  return at > from.getTime() ? [new Date(at)] : [];
}

const cronCache = new Map<string, Cron>();

/** The croner pattern for an AWS cron: seconds first, Sunday = 0, year last, every set spelled out. */
export function toCronerPattern(ast: CronScheduleAst): string {
  const list = (values: readonly number[]) => values.join(',');
  const dom = ast.dayOfMonth;
  const dow = ast.dayOfWeek;
  const domText =
    dom.type === 'unspecified'
      ? '*'
      : dom.type === 'days'
        ? list(dom.days)
        : dom.type === 'last'
          ? 'L'
          : dom.type === 'lastWeekday'
            ? 'LW'
            : `${dom.day}W`;
  const dowText =
    dow.type === 'unspecified'
      ? '*'
      : dow.type === 'days'
        ? list(dow.days.map((d) => d - 1))
        : dow.type === 'last'
          ? `${dow.day - 1}#L`
          : `${dow.day - 1}#${dow.nth}`;
  return `0 ${list(ast.minutes)} ${list(ast.hours)} ${domText} ${list(ast.months)} ${dowText} ${list(ast.years)}`;
}

function cronFor(ast: CronScheduleAst, timezone: string): Cron {
  const pattern = toCronerPattern(ast);
  const key = `${timezone}\n${pattern}`;
  let cron = cronCache.get(key);
  if (!cron) {
    // One of day-of-month and day-of-week is always '?' (here '*'), so AND and OR agree; AND is explicit.
    cron = new Cron(pattern, { timezone, mode: '7-part', domAndDow: true, paused: true });
    if (cronCache.size > 500) cronCache.clear();
    cronCache.set(key, cron);
  }
  return cron;
}

function cronTimes(ast: CronScheduleAst, { timezone, from, count }: NextFireTimesOptions): Date[] {
  const after = from.getTime();
  const lastYear = ast.years.at(-1) ?? 0;
  if (wallTimeAt(after, timezone).year > lastYear) return [];
  const cron = cronFor(ast, timezone);
  const out: Date[] = [];
  // croner only proposes extra candidates at DST changes (a gap-shifted time, a repeated hour), so
  // rejections are few; the cap turns a disagreement with croner into an error, never a hang.
  let budget = count + 10_000;
  let cursor = new Date(after);
  while (out.length < count) {
    const next = cron.nextRun(cursor);
    if (!next) break;
    if (--budget < 0)
      throw new Error(`nextFireTimes: croner kept proposing times that do not match ${ast.expression}`);
    cursor = next;
    const t = next.getTime();
    if (t <= after) continue;
    const wall = wallTimeAt(t, timezone);
    if (wall.year > lastYear) break;
    // A spring-forward gap: croner moved the time past the gap; AWS skips it.
    if (!matchesCron(ast, wall)) continue;
    // A fall-back overlap: this wall time already fired at its first occurrence.
    if (isRepeatedWallTime(t, wall, timezone)) continue;
    out.push(next);
  }
  return out;
}

const LOOKBACK_MS = 6 * 3_600_000;

function isRepeatedWallTime(t: number, wall: ReturnType<typeof wallTimeAt>, timezone: string): boolean {
  // Only a drop in the offset within the last hours can repeat a wall time (no zone moves its clock
  // back by more than a few hours, or twice within six).
  if (offsetAt(t - LOOKBACK_MS, timezone) <= offsetAt(t, timezone)) return false;
  const first = instantsOfWallTime(wallMs(wall), timezone)[0];
  return first !== undefined && first < t;
}
