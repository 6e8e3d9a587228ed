/** Plain-English descriptions of schedule expressions, for `berth list`, `berth schedule` and the dashboard. */
import type { CronDayOfMonth, CronDayOfWeek, CronScheduleAst, ScheduleAst } from './ast.js';
import { MONTH_LONG } from './parse.js';

/** Index 1 = Sunday, as AWS numbers them. */
const DAYS = ['', 'Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const ORDINALS = ['', 'first', 'second', 'third', 'fourth', 'fifth'];

const pad = (n: number) => String(n).padStart(2, '0');
const hhmm = (h: number, m: number) => `${pad(h)}:${pad(m)}`;

/** "a", "a and b", "a, b and c". */
function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words[0] ?? '';
  return `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

/** Consecutive runs of sorted values: [1,2,3,5] → [[1,3],[5,5]]. */
function runs(values: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const v of values) {
    const last = out.at(-1);
    if (last && v === last[1] + 1) last[1] = v;
    else out.push([v, v]);
  }
  return out;
}

/** Values as words, runs of three or more as "x through y" (or "x-y" when `dash`). */
function listValues(values: readonly number[], name: (v: number) => string, dash = false): string {
  const parts = runs(values).flatMap(([a, b]) => {
    if (a === b) return [name(a)];
    if (b === a + 1) return [name(a), name(b)];
    return [dash ? `${name(a)}-${name(b)}` : `${name(a)} through ${name(b)}`];
  });
  return joinWords(parts);
}

/** `{ start, step }` when values are start, start+step, … up to the field's top, with step > 1. */
function stepOf(values: readonly number[], max: number): { start: number; step: number } | undefined {
  const [a, b] = values;
  if (a === undefined || b === undefined) return undefined;
  const step = b - a;
  if (step < 2) return undefined;
  for (let i = 0; i < values.length; i++) if (values[i] !== a + i * step) return undefined;
  return a + values.length * step > max ? { start: a, step } : undefined;
}

function timePhrase(minutes: readonly number[], hours: readonly number[]): string {
  const allMinutes = minutes.length === 60;
  const allHours = hours.length === 24;
  if (!allMinutes && minutes.length * hours.length <= 6) {
    return `at ${joinWords(hours.flatMap((h) => minutes.map((m) => hhmm(h, m))))}`;
  }
  const minuteStep = stepOf(minutes, 59);
  const hourStep = stepOf(hours, 23);
  const [onlyMinute] = minutes;
  if (minutes.length === 1 && onlyMinute !== undefined) {
    if (allHours) return `at minute ${onlyMinute} of every hour`;
    if (hourStep) {
      const from = hourStep.start === 0 ? '' : ` from ${hhmm(hourStep.start, onlyMinute)}`;
      return `every ${hourStep.step} hours at minute ${onlyMinute}${from}`;
    }
  }
  let phrase: string;
  if (allMinutes) phrase = 'every minute';
  else if (minuteStep) {
    phrase = `every ${minuteStep.step} minutes${minuteStep.start === 0 ? '' : ` from minute ${minuteStep.start}`}`;
  } else phrase = `at minute${minutes.length === 1 ? '' : 's'} ${listValues(minutes, String, true)}`;
  if (allHours) return minutes.length > 1 && !allMinutes && !minuteStep ? `${phrase} of every hour` : phrase;
  const hourRuns = runs(hours);
  const [onlyRun] = hourRuns;
  if (hourRuns.length === 1 && onlyRun) {
    const [first, last] = onlyRun;
    return `${phrase} between ${hhmm(first, 0)} and ${hhmm(last, 59)}`;
  }
  return `${phrase} during hour${hours.length === 1 ? '' : 's'} ${listValues(hours, String, true)}`;
}

function dayOfMonthPhrase(dom: CronDayOfMonth): string | undefined {
  switch (dom.type) {
    case 'unspecified':
      return undefined;
    case 'days':
      if (dom.days.length === 31) return undefined;
      return `on day${dom.days.length === 1 ? '' : 's'} ${listValues(dom.days, String, true)} of the month`;
    case 'last':
      return 'on the last day of the month';
    case 'lastWeekday':
      return 'on the last weekday of the month';
    case 'nearestWeekday':
      return `on the weekday nearest day ${dom.day} of the month`;
  }
}

function dayOfWeekPhrase(dow: CronDayOfWeek): string | undefined {
  switch (dow.type) {
    case 'unspecified':
      return undefined;
    case 'days':
      if (dow.days.length === 7) return undefined;
      return `on ${listValues(dow.days, (d) => DAYS[d] ?? String(d))}`;
    case 'last':
      return `on the last ${DAYS[dow.day]} of the month`;
    case 'nth':
      return `on the ${ORDINALS[dow.nth]} ${DAYS[dow.day]} of the month`;
  }
}

function describeCron(ast: CronScheduleAst, timezone: string): string {
  const time = timePhrase(ast.minutes, ast.hours);
  const months =
    ast.months.length === 12 ? undefined : listValues(ast.months, (m) => MONTH_LONG[m - 1] ?? String(m));
  let day = dayOfMonthPhrase(ast.dayOfMonth) ?? dayOfWeekPhrase(ast.dayOfWeek);
  const parts = [time];
  if (day?.endsWith(' of the month') && months) {
    // "on the last Friday of March and June" rather than "… of the month in March and June".
    day = `${day.slice(0, -' the month'.length)} ${months}`;
    parts.push(day);
  } else {
    // A time of day needs "every day"; "every minute" or "every 2 hours" already says it.
    if (day) parts.push(day);
    else if (time.startsWith('at ') && !time.endsWith('of every hour')) parts.push('every day');
    if (months) parts.push(`in ${months}`);
  }
  if (ast.years.length !== 230) parts.push(`in ${listValues(ast.years, String)}`);
  return `${parts.join(' ')} (${timezone})`;
}

export function describeAst(ast: ScheduleAst, timezone: string): string {
  switch (ast.kind) {
    case 'cron':
      return describeCron(ast, timezone);
    case 'rate':
      return ast.value === 1 ? `every ${ast.unit}` : `every ${ast.value} ${ast.unit}s`;
    case 'at': {
      const seconds = ast.second === 0 ? '' : `:${pad(ast.second)}`;
      return `once at ${ast.year}-${pad(ast.month)}-${pad(ast.day)} ${hhmm(ast.hour, ast.minute)}${seconds} (${timezone})`;
    }
  }
}
