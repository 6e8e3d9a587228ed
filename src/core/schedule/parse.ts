/**
 * Parser and validator for EventBridge Scheduler schedule expressions: `cron(...)`, `rate(...)`, `at(...)`.
 *
 * The rules are AWS's (EventBridge cron reference, Scheduler schedule types), enforced here rather than
 * left to croner, which accepts a wider dialect:
 * - cron has six fields `minutes hours day-of-month month day-of-week year`; no seconds.
 * - minutes 0-59 `, - * /`; hours 0-23 `, - * /`; day-of-month 1-31 `, - * ? / L W`; month 1-12 or
 *   JAN-DEC `, - * /`; day-of-week 1-7 or SUN-SAT, 1 = Sunday, `, - * ? L #`; year 1970-2199 `, - * /`.
 * - exactly one of day-of-month and day-of-week is `?`.
 * - `L` (last day of the month), `LW` and `15W` stand alone in day-of-month; `L` (Saturday), `6L` (last
 *   Friday) and `3#2` (second Tuesday) stand alone in day-of-week, so there is only one `#` expression.
 * - `a/n` steps start at `a` and run to the top of the field (Quartz); `a-b/n` steps within a range.
 * - names (JAN, mon) are case-insensitive.
 * - an hour range may wrap past midnight: AWS documents `cron(0/30 20-2 ? * MON-FRI *)` (20-2 is 20-23 and 0-2).
 * Where AWS documents nothing, the parser is strict: ranges in the other fields must run low to high (the
 * message gives the equivalent list, e.g. FRI-SAT,SUN-MON), `L-3` offsets and `W` in lists are rejected, and
 * a step must be smaller than its field's span.
 */
import {
  type AtScheduleAst,
  type CronDayOfMonth,
  type CronDayOfWeek,
  type CronFieldsText,
  type CronScheduleAst,
  quote,
  type RateScheduleAst,
  type RateUnit,
  type ScheduleAst,
  ScheduleExpressionError,
} from './ast.js';
import { daysInMonth, firstMatchingDate } from './match.js';

export const MAX_EXPRESSION_LENGTH = 256;

export const MONTH_NAMES = [
  'JAN',
  'FEB',
  'MAR',
  'APR',
  'MAY',
  'JUN',
  'JUL',
  'AUG',
  'SEP',
  'OCT',
  'NOV',
  'DEC',
] as const;
/** English month names, index 0 = January. */
export const MONTH_LONG = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;
/** Index 0 is SUN, which AWS numbers 1. */
export const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const CRON_FIELD_ORDER = 'minutes hours day-of-month month day-of-week year';
const CRON_EXAMPLE = 'cron(0 2 * * ? *)';

type Fail = (problem: string, fix: string) => never;

/**
 * Parses an EventBridge Scheduler expression into a typed AST.
 * @throws {ScheduleExpressionError} when the expression is not valid for AWS.
 */
export function parseScheduleExpression(expression: string): ScheduleAst {
  const fail: Fail = (problem, fix) => {
    throw new ScheduleExpressionError(String(expression), problem, fix);
  };
  if (typeof expression !== 'string')
    fail('is not a string', `write a schedule expression such as ${CRON_EXAMPLE}`);
  if (expression.trim() === '') {
    fail(
      'the schedule expression is empty',
      `write cron(...), rate(...) or at(...), e.g. ${CRON_EXAMPLE} or rate(5 minutes)`,
    );
  }
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    fail(
      `is ${expression.length} characters long, over AWS's limit of ${MAX_EXPRESSION_LENGTH}`,
      'shorten it',
    );
  }
  if (expression !== expression.trim()) fail('has white space around it', `write ${expression.trim()}`);

  const match = /^([A-Za-z]+)\((.*)\)$/s.exec(expression);
  if (!match) return failNotAnExpression(expression, fail);
  const kind = match[1] ?? '';
  const inner = match[2] ?? '';
  const lower = kind.toLowerCase();
  if (lower !== kind && (lower === 'cron' || lower === 'rate' || lower === 'at')) {
    fail(`the expression type "${kind}" must be lower case`, `write ${lower}(${inner})`);
  }
  switch (kind) {
    case 'cron':
      return parseCron(expression, inner, fail);
    case 'rate':
      return parseRate(expression, inner, fail);
    case 'at':
      return parseAt(expression, inner, fail);
    default:
      return fail(`"${kind}(…)" is not a schedule expression type`, 'use cron(...), rate(...) or at(...)');
  }
}

function failNotAnExpression(expression: string, fail: Fail): never {
  const words = expression.split(/\s+/);
  if (words.length >= 5 && words.length <= 7 && !expression.includes('(')) {
    fail(
      'is not wrapped in cron(...)',
      `write cron(${expression})${words.length === 6 ? '' : ` with six fields: ${CRON_FIELD_ORDER}`}`,
    );
  }
  if (/^\d+\s+[A-Za-z]+$/.test(expression)) fail('is not wrapped in rate(...)', `write rate(${expression})`);
  if (/^\d{4}-\d{2}-\d{2}T/.test(expression)) fail('is not wrapped in at(...)', `write at(${expression})`);
  return fail(
    'is not a schedule expression',
    `write cron(${CRON_FIELD_ORDER}), rate(value unit) or at(yyyy-mm-ddThh:mm:ss), e.g. ${CRON_EXAMPLE}`,
  );
}

// ---------------------------------------------------------------------------------------------- cron

interface FieldRule {
  /** Name in messages: `minutes`, `day-of-month`… */
  title: string;
  /** One value, in messages: `minute`, `day of the month`… */
  unit: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** The other field's names, to explain a misplaced name. */
  otherNames?: { names: readonly string[]; kind: string };
  /** Fix for an out-of-range value. */
  rangeFix: string;
}

const MINUTES: FieldRule = {
  title: 'minutes',
  unit: 'minute',
  min: 0,
  max: 59,
  rangeFix: 'use a minute from 0 to 59 (0 is the top of the hour)',
};
const HOURS: FieldRule = {
  title: 'hours',
  unit: 'hour',
  min: 0,
  max: 23,
  rangeFix: 'use an hour from 0 to 23 (0 is midnight)',
};
const DAY_OF_MONTH: FieldRule = {
  title: 'day-of-month',
  unit: 'day of the month',
  min: 1,
  max: 31,
  rangeFix: 'use a day from 1 to 31, or L for the last day of the month',
};
const MONTH: FieldRule = {
  title: 'month',
  unit: 'month',
  min: 1,
  max: 12,
  names: MONTH_NAMES,
  otherNames: { names: DAY_NAMES, kind: 'a day name' },
  rangeFix: 'use a month from 1 to 12 or JAN-DEC',
};
const DAY_OF_WEEK: FieldRule = {
  title: 'day-of-week',
  unit: 'day of the week',
  min: 1,
  max: 7,
  names: DAY_NAMES,
  otherNames: { names: MONTH_NAMES, kind: 'a month name' },
  rangeFix: 'use 1-7 or SUN-SAT; AWS numbers the days from 1 = Sunday to 7 = Saturday',
};
const YEAR: FieldRule = {
  title: 'year',
  unit: 'year',
  min: 1970,
  max: 2199,
  rangeFix: 'use a year from 1970 to 2199, or * for every year',
};

function parseCron(expression: string, inner: string, fail: Fail): CronScheduleAst {
  const parts = inner.trim() === '' ? [] : inner.trim().split(/\s+/);
  if (parts.length !== 6) failFieldCount(parts, fail);
  const [minutesText, hoursText, domText, monthText, dowText, yearText] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const fields: CronFieldsText = {
    minutes: minutesText,
    hours: hoursText,
    dayOfMonth: domText,
    month: monthText,
    dayOfWeek: dowText,
    year: yearText,
  };

  // A Quartz expression (seconds first, no year) also has six fields: catch it before the field errors.
  if (parts[0] === '0' && (yearText === '?' || /^[A-Za-z]/.test(yearText))) {
    const candidate = `cron(${parts.slice(1).join(' ')} *)`;
    fail(
      `the sixth field is the year, but "${yearText}" is not a year; this looks like a Quartz expression with seconds first`,
      isValid(candidate)
        ? `AWS cron has no seconds field (${CRON_FIELD_ORDER}): write ${candidate}`
        : `AWS cron has no seconds field: the fields are ${CRON_FIELD_ORDER}, e.g. ${CRON_EXAMPLE}`,
    );
  }

  const minutes = parseNumericField(minutesText, MINUTES, fail);
  const hours = parseNumericField(hoursText, HOURS, fail);
  const dayOfMonth = parseDayOfMonth(domText, fail);
  const months = parseNumericField(monthText, MONTH, fail);
  const dayOfWeek = parseDayOfWeek(dowText, fail);
  const years = parseNumericField(yearText, YEAR, fail);

  const domUnset = dayOfMonth.type === 'unspecified';
  const dowUnset = dayOfWeek.type === 'unspecified';
  const rebuild = (dom: string, dow: string) =>
    `cron(${minutesText} ${hoursText} ${dom} ${monthText} ${dow} ${yearText})`;
  if (domUnset && dowUnset) {
    fail(
      `day-of-month and day-of-week are both '?', but exactly one of day-of-month and day-of-week must be '?'`,
      `set the other one, e.g. ${rebuild('*', '?')} for every day or ${rebuild('?', 'MON-FRI')} for weekdays`,
    );
  }
  if (!domUnset && !dowUnset) {
    const problem = `day-of-month "${domText}" and day-of-week "${dowText}" are both set, but exactly one of day-of-month and day-of-week must be '?'`;
    if (dowText === '*') fail(problem, `write ${rebuild(domText, '?')}`);
    if (domText === '*') fail(problem, `write ${rebuild('?', dowText)}`);
    fail(
      problem,
      `AWS cannot combine them: write ${rebuild(domText, '?')} for the day of the month, or ${rebuild('?', dowText)} for the day of the week`,
    );
  }

  const ast: CronScheduleAst = {
    kind: 'cron',
    expression,
    fields,
    minutes,
    hours,
    dayOfMonth,
    months,
    dayOfWeek,
    years,
  };
  if (!firstMatchingDate(ast)) failNeverFires(ast, fail);
  return ast;
}

/** A cron whose day fields match no date of its months and years (`30 2`: February has no 30th). */
function failNeverFires(ast: CronScheduleAst, fail: Fail): never {
  const { dayOfMonth: dom, months, fields } = ast;
  const monthList = months.map((m) => MONTH_LONG[m - 1]).join(', ');
  const longest = Math.max(...months.map((m) => (m === 2 ? 29 : daysInMonth(2001, m))));
  if (dom.type === 'days' && Math.min(...dom.days) > longest) {
    const plural = months.length > 1;
    return fail(
      `never fires: ${monthList} ${plural ? 'have' : 'has'} no day ${fields.dayOfMonth} (at most ${longest} days)`,
      `use a day the month has, or L for the last day of the month, e.g. cron(${fields.minutes} ${fields.hours} L ${fields.month} ? ${fields.year})`,
    );
  }
  if (dom.type === 'nearestWeekday' && dom.day > longest) {
    return fail(
      `never fires: ${monthList} ${months.length > 1 ? 'have' : 'has'} no day ${dom.day} (at most ${longest} days)`,
      'use a day the month has, or LW for the last weekday of the month',
    );
  }
  return fail(
    `never fires: no date in ${fields.year === '*' ? 'any year' : `year ${fields.year}`} matches month ${fields.month}, day-of-month ${fields.dayOfMonth} and day-of-week ${fields.dayOfWeek}`,
    'check the day fields against a calendar, and run berth schedule <job> to see the fire times',
  );
}

function isValid(expression: string): boolean {
  try {
    parseScheduleExpression(expression);
    return true;
  } catch {
    return false;
  }
}

function failFieldCount(parts: string[], fail: Fail): never {
  const n = parts.length;
  const problem = `has ${n} field${n === 1 ? '' : 's'}, but AWS cron has six: ${CRON_FIELD_ORDER}`;
  if (n === 5) {
    const candidate = unixToAws(parts);
    if (candidate && isValid(candidate)) {
      fail(
        `${problem} (this looks like a 5-field Unix cron)`,
        `add the year last and '?' for the unused day field: write ${candidate}`,
      );
    }
    fail(problem, `add the year field last and make day-of-month or day-of-week '?', e.g. ${CRON_EXAMPLE}`);
  }
  if (n === 7) {
    const candidate = `cron(${parts.slice(1).join(' ')})`;
    if (isValid(candidate)) fail(`${problem} (no seconds)`, `drop the seconds field: write ${candidate}`);
    fail(`${problem} (no seconds)`, `drop the seconds field and keep the year last, e.g. ${CRON_EXAMPLE}`);
  }
  return fail(problem, `e.g. ${CRON_EXAMPLE} runs at 02:00 every day`);
}

/** Best-effort translation of a 5-field Unix cron (`m h dom mon dow`, 0 = Sunday) to AWS. */
function unixToAws(parts: string[]): string | undefined {
  const [m, h, dom, mon, dow] = parts as [string, string, string, string, string];
  if (dow === '*' || dow === '?') return `cron(${m} ${h} ${dom === '?' ? '*' : dom} ${mon} ? *)`;
  if (dom !== '*' && dom !== '?') return undefined;
  // Unix numbers Sunday 0 (or 7), AWS numbers it 1.
  const awsDow = /^[0-7,-]+$/.test(dow) ? dow.replace(/\d/g, (d) => String((Number(d) % 7) + 1)) : dow;
  return `cron(${m} ${h} ? ${mon} ${awsDow} *)`;
}

function fieldFail(rule: FieldRule, text: string, fail: Fail): Fail {
  return (problem, fix) => fail(`${rule.title} field "${text}": ${problem}`, fix);
}

/** Expands a plain field (values, ranges, steps, `*`) to a sorted set. */
function parseNumericField(text: string, rule: FieldRule, outerFail: Fail): number[] {
  const fail: Fail = fieldFail(rule, text, outerFail);
  if (rule === DAY_OF_WEEK && text.includes('/')) {
    fail(`day-of-week does not take '/' steps`, 'list the days instead, e.g. MON,WED,FRI or 2,4,6');
  }
  const values = new Set<number>();
  const span = rule.max - rule.min + 1;
  for (const item of text.split(',')) {
    if (item === '') fail('has an empty list item', 'remove the extra comma, e.g. 0,30');
    let base = item;
    let step: number | undefined;
    const slash = item.indexOf('/');
    if (slash !== -1) {
      base = item.slice(0, slash);
      const stepText = item.slice(slash + 1);
      if (!/^\d+$/.test(stepText)) {
        fail(
          `the step in "${item}" is not a whole number`,
          `write a start and a step, e.g. */5 or ${rule.min}/5`,
        );
      }
      step = Number(stepText);
      if (step === 0) fail(`"${item}" has a step of 0`, 'use a step of 1 or more, e.g. */5');
      if (step >= span) {
        fail(
          `the step ${step} in "${item}" is not smaller than the field's ${span} values, so it never repeats`,
          `use a single value instead, or a step up to ${span - 1}`,
        );
      }
      if (base === '') fail(`"${item}" has a step but no start`, `write */${step} or ${rule.min}/${step}`);
    }
    let lo: number;
    let hi: number;
    if (base === '*') {
      lo = rule.min;
      hi = rule.max;
    } else if (base.includes('-')) {
      const ends = base.split('-');
      const [a, b] = ends;
      if (ends.length !== 2 || !a || !b) {
        fail(`"${item}" is not a range`, `write a range as low-high, e.g. ${rule.min}-${rule.min + 4}`);
      }
      lo = toValue(a, item, rule, fail);
      hi = toValue(b, item, rule, fail);
      if (lo > hi && rule === HOURS) {
        // AWS documents hour ranges that wrap past midnight (`cron(0/30 20-2 ? * MON-FRI *)`): 20-2 is
        // 20, 21, 22, 23, 0, 1, 2; a step counts on across midnight (22-4/3 is 22, 1, 4).
        const length = hi + span - lo;
        for (let offset = 0; offset <= length; offset += step ?? 1) {
          values.add(rule.min + ((lo - rule.min + offset) % span));
        }
        continue;
      }
      if (lo > hi) {
        const top = /^\d+$/.test(a) || !rule.names ? String(rule.max) : (rule.names.at(-1) ?? '');
        const bottom = /^\d+$/.test(b) || !rule.names ? String(rule.min) : (rule.names[0] ?? '');
        const upper = a.toUpperCase() === top ? a : `${a}-${top}`;
        const lower = b.toUpperCase() === bottom ? b : `${bottom}-${b}`;
        fail(
          `the range ${base} runs backwards (AWS ranges run from low to high)`,
          `write ${upper},${lower} to wrap around${step === undefined ? '' : ` (with the step on each part)`}`,
        );
      }
    } else {
      lo = toValue(base, item, rule, fail);
      hi = step === undefined ? lo : rule.max;
    }
    for (let v = lo; v <= hi; v += step ?? 1) values.add(v);
  }
  return [...values].sort((x, y) => x - y);
}

/** One number or name of a field. */
function toValue(token: string, item: string, rule: FieldRule, fail: Fail): number {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    if (n < rule.min || n > rule.max) {
      if (rule === DAY_OF_WEEK && n === 0) {
        fail(
          '0 is not a day: AWS numbers the days 1-7 with 1 = Sunday (not 0 as in Unix cron)',
          'use 1 or SUN for Sunday',
        );
      }
      fail(`${n} is out of range ${rule.min}-${rule.max}`, rule.rangeFix);
    }
    return n;
  }
  const upper = token.toUpperCase();
  const named = rule.names?.indexOf(upper) ?? -1;
  if (named !== -1) return named + rule.min;
  if (token === '?') {
    fail(`'?' is only allowed in day-of-month and day-of-week`, `use * for every ${rule.unit}`);
  }
  if (token === '*')
    fail(
      `'*' cannot be part of a range or list ("${item}")`,
      `use * alone, or a range such as ${rule.min}-${rule.max}`,
    );
  if (token.includes('#')) {
    fail(`'#' is only allowed in day-of-week, alone (e.g. 3#2, the second Tuesday)`, 'remove it');
  }
  if (/^[0-9]*L$/i.test(token) || /^L/i.test(token)) {
    fail(
      rule === DAY_OF_MONTH || rule === DAY_OF_WEEK
        ? `'L' must stand alone in ${rule.title} ("${item}")`
        : `'L' is only allowed in day-of-month (L, LW) and day-of-week (L, 6L)`,
      rule === DAY_OF_MONTH
        ? 'write L or LW alone'
        : rule === DAY_OF_WEEK
          ? 'write e.g. 6L alone'
          : 'remove it',
    );
  }
  if (/^[0-9]*W$/i.test(token)) {
    fail(
      rule === DAY_OF_MONTH
        ? `'W' must stand alone in day-of-month ("${item}")`
        : `'W' is only allowed in day-of-month (e.g. 15W, the weekday nearest the 15th)`,
      rule === DAY_OF_MONTH ? 'write e.g. 15W alone; make a second schedule for another day' : 'remove it',
    );
  }
  if (rule.otherNames?.names.includes(upper as never)) {
    fail(`"${token}" is ${rule.otherNames.kind}, not a ${rule.unit}`, rule.rangeFix);
  }
  return fail(`"${token}" is not a ${rule.unit}`, rule.rangeFix);
}

function parseDayOfMonth(text: string, outerFail: Fail): CronDayOfMonth {
  const fail: Fail = fieldFail(DAY_OF_MONTH, text, outerFail);
  if (text === '?') return { type: 'unspecified' };
  const upper = text.toUpperCase();
  if (upper === 'L') return { type: 'last' };
  if (upper === 'LW') return { type: 'lastWeekday' };
  const nearest = /^(\d+)W$/i.exec(text);
  if (nearest) {
    const day = Number(nearest[1]);
    if (day < 1 || day > 31)
      fail(`${day} is out of range 1-31`, 'write W after a day from 1 to 31, e.g. 15W');
    return { type: 'nearestWeekday', day };
  }
  if (/^L-\d+$/i.test(text)) {
    fail(
      'AWS documents no L-n offsets (Quartz syntax)',
      'use L for the last day of the month or LW for its last weekday',
    );
  }
  if (upper === 'W') fail(`'W' needs a day`, 'write e.g. 15W (the weekday nearest the 15th) or LW');
  if (text.includes('?')) fail(`'?' must stand alone`, 'write ? alone, or list days such as 1,15');
  const days = parseNumericField(text, DAY_OF_MONTH, outerFail);
  return { type: 'days', days, all: text === '*' };
}

function parseDayOfWeek(text: string, outerFail: Fail): CronDayOfWeek {
  const fail: Fail = fieldFail(DAY_OF_WEEK, text, outerFail);
  if (text === '?') return { type: 'unspecified' };
  if (text.toUpperCase() === 'L') return { type: 'days', days: [7], all: false };
  const hashes = text.split('#').length - 1;
  if (hashes > 1) {
    fail(
      `AWS allows only one '#' expression in day-of-week`,
      'keep one, e.g. 3#2, and make a second schedule for the other day',
    );
  }
  if (hashes === 1) {
    const nth = /^([A-Za-z]{3}|\d+)#(\d+)$/.exec(text);
    if (!nth)
      fail(`a '#' expression must stand alone, as day#n`, 'write e.g. 3#2 or TUE#2 (the second Tuesday)');
    const day = toValue(nth[1] ?? '', text, DAY_OF_WEEK, fail);
    const n = Number(nth[2]);
    if (n < 1 || n > 5)
      fail(`there is no ${n}${ordinalSuffix(n)} weekday in a month`, 'use 1-5 after #, e.g. 3#2');
    return { type: 'nth', day, nth: n };
  }
  const last = /^([A-Za-z]{3}|\d+)L$/i.exec(text);
  if (last) return { type: 'last', day: toValue(last[1] ?? '', text, DAY_OF_WEEK, fail) };
  if (text.includes('?')) fail(`'?' must stand alone`, 'write ? alone, or list days such as MON,FRI');
  const days = parseNumericField(text, DAY_OF_WEEK, outerFail);
  return { type: 'days', days, all: text === '*' };
}

function ordinalSuffix(n: number): string {
  if (n % 100 >= 11 && n % 100 <= 13) return 'th';
  return n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
}

// ---------------------------------------------------------------------------------------------- rate

const RATE_UNITS: Record<string, RateUnit> = {
  minute: 'minute',
  minutes: 'minute',
  hour: 'hour',
  hours: 'hour',
  day: 'day',
  days: 'day',
};
const UNIT_MS: Record<RateUnit, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const SHORT_UNITS: Record<string, RateUnit> = {
  m: 'minute',
  min: 'minute',
  mins: 'minute',
  h: 'hour',
  hr: 'hour',
  hrs: 'hour',
  d: 'day',
};

function unitWord(value: number, unit: RateUnit): string {
  return value === 1 ? unit : `${unit}s`;
}

function parseRate(expression: string, inner: string, fail: Fail): RateScheduleAst {
  const parts = inner.trim() === '' ? [] : inner.trim().split(/\s+/);
  if (parts.length !== 2) {
    fail('rate() takes a value and a unit', 'write e.g. rate(5 minutes), rate(1 hour) or rate(2 days)');
  }
  const [valueText, unitText] = parts as [string, string];
  const unitLower = unitText.toLowerCase();
  const knownUnit = RATE_UNITS[unitLower] ?? SHORT_UNITS[unitLower];

  if (!/^\d+$/.test(valueText)) {
    const decimal = /^\d*\.\d+$|^\d+\.$/.test(valueText) ? Number(valueText) : undefined;
    if (decimal !== undefined && knownUnit) {
      const smaller: RateUnit | undefined =
        knownUnit === 'day' ? 'hour' : knownUnit === 'hour' ? 'minute' : undefined;
      const factor = knownUnit === 'day' ? 24 : 60;
      const converted = decimal * factor;
      if (smaller && Number.isInteger(converted) && converted > 0) {
        fail('the value must be a whole number', `write rate(${converted} ${unitWord(converted, smaller)})`);
      }
      fail('the value must be a whole number', 'use whole minutes, hours or days, e.g. rate(5 minutes)');
    }
    if (/^[-+]\d+$/.test(valueText)) {
      fail(
        'the value must be a positive whole number',
        `write it without a sign, e.g. rate(${valueText.slice(1)} ${unitText})`,
      );
    }
    fail(`"${valueText}" is not a number`, 'write a positive whole number and a unit, e.g. rate(5 minutes)');
  }
  const value = Number(valueText);
  if (value === 0) {
    fail('the value must be a positive whole number, not 0', `write e.g. rate(1 ${knownUnit ?? 'minute'})`);
  }

  if (/^(s|sec|secs|second|seconds)$/.test(unitLower)) {
    const minutes = value / 60;
    fail(
      'rates faster than 1 minute are not supported, and seconds are not a rate unit',
      Number.isInteger(minutes)
        ? `write rate(${minutes} ${unitWord(minutes, 'minute')})`
        : 'use minutes, e.g. rate(1 minute)',
    );
  }
  if (/^(w|wk|wks|week|weeks)$/.test(unitLower)) {
    fail('weeks are not a rate unit', `write rate(${value * 7} days), or a cron such as cron(0 0 ? * MON *)`);
  }
  if (/^(month|months|year|years)$/.test(unitLower)) {
    fail(
      `"${unitText}" is not a rate unit (months and years differ in length)`,
      'use a cron expression, e.g. cron(0 0 1 * ? *) for the 1st of every month',
    );
  }
  const unit = RATE_UNITS[unitLower];
  if (!unit) {
    if (knownUnit)
      fail(`"${unitText}" is not a rate unit`, `write rate(${value} ${unitWord(value, knownUnit)})`);
    fail(
      `"${unitText}" is not a rate unit`,
      `use ${(['minute', 'hour', 'day'] as const)
        .map((u) => unitWord(value, u))
        .join(', ')
        .replace(/, (?=[a-z]+$)/, ' or ')}, e.g. rate(${value} ${unitWord(value, 'minute')})`,
    );
  }
  const correct = unitWord(value, unit);
  if (unitText !== unitLower)
    fail(`the unit "${unitText}" must be lower case`, `write rate(${value} ${correct})`);
  if (value === 1 && unitText !== unit) {
    fail('a value of 1 takes the singular unit', `write rate(1 ${unit})`);
  }
  if (value > 1 && unitText === unit) {
    fail(`a value above 1 takes the plural unit`, `write rate(${value} ${correct})`);
  }
  if (valueText !== String(value)) fail('the value has leading zeros', `write rate(${value} ${correct})`);
  const intervalMs = value * UNIT_MS[unit];
  if (!Number.isSafeInteger(intervalMs)) {
    fail(`${value} ${correct} is too long an interval`, 'use an at() expression for a one-time schedule');
  }
  return { kind: 'rate', expression, value, unit, intervalMs };
}

// ------------------------------------------------------------------------------------------------ at

export { daysInMonth };

function parseAt(expression: string, inner: string, fail: Fail): AtScheduleAst {
  const example = 'at(2026-12-01T09:00:00)';
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(inner);
  if (!m) {
    const text = inner.trim();
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)$/i.test(text)) {
      fail(
        'at() takes a local time without a zone or offset; the time zone is set separately',
        `write at(${text.slice(0, 19)}) and set the schedule's time zone`,
      );
    }
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+$/.test(text)) {
      fail('at() takes whole seconds', `write at(${text.slice(0, 19)})`);
    }
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(text)) fail('at() needs seconds', `write at(${text}:00)`);
    if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(text)) {
      const fixed = text.replace(' ', 'T');
      fail(
        `the date and time are separated by a space`,
        `write at(${fixed.length === 16 ? `${fixed}:00` : fixed})`,
      );
    }
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) fail('at() needs a time of day', `write at(${text}T00:00:00)`);
    fail('at() takes a date and time as yyyy-mm-ddThh:mm:ss', `write e.g. ${example}`);
  }
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12) fail(`month ${month} is out of range 01-12`, `write e.g. ${example}`);
  const dim = daysInMonth(year, month);
  if (day < 1 || day > dim) {
    fail(
      `${MONTH_LONG[month - 1]} ${year} has no day ${day} (it has ${dim} days)`,
      `use a day from 01 to ${dim}, e.g. at(${m[1]}-${m[2]}-${String(dim)}T${m[4]}:${m[5]}:${m[6]})`,
    );
  }
  if (hour > 23) fail(`hour ${hour} is out of range 00-23`, `use 00 for midnight of the next day`);
  if (minute > 59) fail(`minute ${minute} is out of range 00-59`, `write e.g. ${example}`);
  if (second > 59) fail(`second ${second} is out of range 00-59`, `write e.g. ${example}`);
  return { kind: 'at', expression, year, month, day, hour, minute, second };
}

/** The message of a failed parse, or `undefined` when the expression is valid. */
export function checkScheduleExpression(expression: string): string | undefined {
  try {
    parseScheduleExpression(expression);
    return undefined;
  } catch (error) {
    if (error instanceof ScheduleExpressionError) return error.message;
    return `${quote(String(expression))}: is not a valid schedule expression — write e.g. ${CRON_EXAMPLE}`;
  }
}
