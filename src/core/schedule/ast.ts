import { BerthError } from '../errors.js';
import type { WallDateTime } from './zone.js';

/** The six raw fields of an AWS cron expression, as written. */
export interface CronFieldsText {
  minutes: string;
  hours: string;
  dayOfMonth: string;
  month: string;
  dayOfWeek: string;
  year: string;
}

/** Day-of-month field of an AWS cron expression. */
export type CronDayOfMonth =
  /** `?`: day-of-week decides. */
  | { type: 'unspecified' }
  /** Plain days (1-31); `all` when written `*`. */
  | { type: 'days'; days: readonly number[]; all: boolean }
  /** `L`: the last day of the month. */
  | { type: 'last' }
  /** `LW`: the last weekday (Monday-Friday) of the month. */
  | { type: 'lastWeekday' }
  /** `15W`: the weekday nearest the given day, never leaving the month. */
  | { type: 'nearestWeekday'; day: number };

/** Day-of-week field of an AWS cron expression. Days use AWS numbering: 1 = Sunday … 7 = Saturday. */
export type CronDayOfWeek =
  /** `?`: day-of-month decides. */
  | { type: 'unspecified' }
  /** Plain days (1-7, 1 = Sunday); `all` when written `*`. A lone `L` is Saturday (the last day of the week). */
  | { type: 'days'; days: readonly number[]; all: boolean }
  /** `6L`: the last such weekday of the month (6L = last Friday). */
  | { type: 'last'; day: number }
  /** `3#2`: the nth such weekday of the month (3#2 = second Tuesday). */
  | { type: 'nth'; day: number; nth: number };

/** `cron(minutes hours day-of-month month day-of-week year)`, expanded to sorted value sets. */
export interface CronScheduleAst {
  kind: 'cron';
  expression: string;
  fields: CronFieldsText;
  /** 0-59. */
  minutes: readonly number[];
  /** 0-23. */
  hours: readonly number[];
  dayOfMonth: CronDayOfMonth;
  /** 1-12. */
  months: readonly number[];
  dayOfWeek: CronDayOfWeek;
  /** 1970-2199. */
  years: readonly number[];
}

export type RateUnit = 'minute' | 'hour' | 'day';

/** `rate(value unit)`: a fixed interval of elapsed time (a day is 24 hours, whatever DST does). */
export interface RateScheduleAst {
  kind: 'rate';
  expression: string;
  value: number;
  unit: RateUnit;
  intervalMs: number;
}

/** `at(yyyy-mm-ddThh:mm:ss)`: one wall-clock time, read in the schedule's time zone (`month` is 1-12). */
export interface AtScheduleAst extends WallDateTime {
  kind: 'at';
  expression: string;
}

export type ScheduleAst = CronScheduleAst | RateScheduleAst | AtScheduleAst;

/**
 * An invalid schedule expression. `message` is `"<expression>": <problem> — <fix>`, the form every
 * berth schema message has (callers split it at the first ' — ').
 */
export class ScheduleExpressionError extends BerthError {
  override name = 'ScheduleExpressionError';
  readonly expression: string;
  readonly problem: string;
  readonly fix: string;
  constructor(expression: string, problem: string, fix: string) {
    super(`${quote(expression)}: ${problem} — ${fix}`);
    this.expression = expression;
    this.problem = problem;
    this.fix = fix;
  }
}

/** Quotes text for a message; keeps an accidental ' — ' in the text from splitting the message. */
export function quote(text: string): string {
  return JSON.stringify(text.replaceAll(' — ', ' - '));
}
