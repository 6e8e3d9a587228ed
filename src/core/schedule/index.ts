/**
 * EventBridge Scheduler schedule expressions (`cron(...)`, `rate(...)`, `at(...)`): validation with
 * `problem — fix` messages, a typed AST, fire times in an IANA time zone, and plain-English descriptions.
 * Pure: no I/O, no process time zone. See next.ts for the DST rules.
 */
import type { ScheduleAst } from './ast.js';
import { describeAst } from './describe.js';
import { fireTimes, type NextFireTimesOptions } from './next.js';
import { parseScheduleExpression } from './parse.js';

export type {
  AtScheduleAst,
  CronDayOfMonth,
  CronDayOfWeek,
  CronFieldsText,
  CronScheduleAst,
  RateScheduleAst,
  RateUnit,
  ScheduleAst,
} from './ast.js';
export { ScheduleExpressionError } from './ast.js';
export type { NextFireTimesOptions } from './next.js';
export { checkScheduleExpression, parseScheduleExpression } from './parse.js';
export { noFireReason, scheduleWindow, type WindowedSchedule, windowedFireTimes } from './window.js';
export { instantOfZonedIso, isoInZone, resolveWallTime } from './zone.js';

const MAX_TIME_ZONE_LENGTH = 50;
let canonicalZones: Map<string, string> | undefined;

/** `undefined` when the IANA time zone is known, otherwise `problem — fix`. */
export function checkTimeZone(timezone: string): string | undefined {
  const fix = `use an IANA name such as 'UTC', 'Europe/Berlin' or 'Asia/Seoul'`;
  if (typeof timezone !== 'string' || timezone.trim() === '') return `the time zone is empty — ${fix}`;
  const shown = JSON.stringify(timezone);
  if (/^(UTC|GMT)?\s*[+-]\d/i.test(timezone)) {
    return `${shown} is a UTC offset, not an IANA time zone — ${fix}, or 'Etc/GMT-1' for a fixed UTC+01:00 (the Etc/ sign is inverted)`;
  }
  if (timezone.length > MAX_TIME_ZONE_LENGTH) {
    return `${shown} is longer than AWS's limit of ${MAX_TIME_ZONE_LENGTH} characters — ${fix}`;
  }
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    return `${shown} is not an IANA time zone — ${fix}`;
  }
  if (!canonicalZones) {
    canonicalZones = new Map(Intl.supportedValuesOf('timeZone').map((z) => [z.toLowerCase(), z]));
    canonicalZones.set('utc', 'UTC');
  }
  const properCase =
    canonicalZones.get(timezone.toLowerCase()) ??
    (resolved.toLowerCase() === timezone.toLowerCase() ? resolved : undefined);
  if (properCase && properCase !== timezone) {
    return `${shown} is not spelled as the IANA name — write '${properCase}'`;
  }
  return undefined;
}

function assertOptions(options: NextFireTimesOptions): void {
  const zoneProblem = checkTimeZone(options.timezone);
  if (zoneProblem) throw new RangeError(zoneProblem);
  if (!(options.from instanceof Date) || Number.isNaN(options.from.getTime())) {
    throw new RangeError('nextFireTimes: from is not a valid Date — pass a Date such as new Date()');
  }
  if (
    options.anchor !== undefined &&
    (!(options.anchor instanceof Date) || Number.isNaN(options.anchor.getTime()))
  ) {
    throw new RangeError(
      'nextFireTimes: anchor is not a valid Date — pass a Date, or leave it out to anchor at from',
    );
  }
  if (!Number.isInteger(options.count) || options.count < 0) {
    throw new RangeError(
      `nextFireTimes: count ${options.count} is not a whole number ≥ 0 — pass e.g. count: 5`,
    );
  }
}

/**
 * The next `count` fire times strictly after `from`, for the expression read in `timezone`.
 * - cron: AWS's DST rules (a time in a spring-forward gap is skipped, a repeated time fires once).
 * - rate: `anchor + k × interval` in elapsed time (a day is 24 h); `anchor` defaults to `from`.
 * - at: the single time, if it is after `from`.
 * @throws {ScheduleExpressionError} for an invalid expression; RangeError for invalid options.
 */
export function nextFireTimes(expression: string, options: NextFireTimesOptions): Date[] {
  const ast: ScheduleAst = parseScheduleExpression(expression);
  assertOptions(options);
  return fireTimes(ast, options);
}

/**
 * Plain words for an expression, e.g. "at 02:00 every day (Asia/Seoul)", "every 5 minutes",
 * "once at 2026-12-01 09:00 (UTC)", "at 10:15 on the last Friday of the month (UTC)".
 * @throws {ScheduleExpressionError} for an invalid expression.
 */
export function describeSchedule(expression: string, timezone = 'UTC'): string {
  return describeAst(parseScheduleExpression(expression), timezone);
}
