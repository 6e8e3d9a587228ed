import { describe, expect, it } from 'vitest';
import {
  checkScheduleExpression,
  checkTimeZone,
  parseScheduleExpression,
  ScheduleExpressionError,
} from '../../../src/core/schedule/index.js';

/** [expression, undefined when valid | substrings the message must contain]. */
const CASES: Array<[string, undefined | string[]]> = [
  // ------------------------------------------------------------------ valid
  ['cron(0 2 * * ? *)', undefined],
  ['cron(0 10 * * ? *)', undefined],
  ['cron(0/5 8-17 ? * MON-FRI *)', undefined],
  ['cron(15 10 ? * 6L 2019-2022)', undefined],
  ['cron(0 12 ? * fri#2 *)', undefined],
  ['cron(0 12 ? * 3#2 *)', undefined],
  ['cron(0 12 ? * FRIL *)', undefined],
  ['cron(0 12 ? * L *)', undefined],
  ['cron(0 0 L * ? *)', undefined],
  ['cron(0 0 LW * ? *)', undefined],
  ['cron(0 0 15W * ? *)', undefined],
  ['cron(0 0 1W * ? *)', undefined],
  ['cron(1/10 * * * ? *)', undefined],
  ['cron(0 0 1/7 * ? *)', undefined],
  ['cron(0 0 1 jan,Jul ? *)', undefined],
  ['cron(0 0 1 JAN-MAR/2 ? 2026/2)', undefined],
  ['cron(0,15,30,45 0-23/6 ? * SUN,SAT 2026,2027)', undefined],
  ['cron(59 23 31 12 ? 2199)', undefined],
  ['cron(0 0 1 1 ? 1970)', undefined],
  ['cron(*/1 * * * ? *)', undefined],
  ['cron(5-40/5 * ? * 1-7 *)', undefined],
  ['rate(1 minute)', undefined],
  ['rate(5 minutes)', undefined],
  ['rate(1 hour)', undefined],
  ['rate(12 hours)', undefined],
  ['rate(1 day)', undefined],
  ['rate(30 days)', undefined],
  ['at(2026-12-01T09:00:00)', undefined],
  ['at(2028-02-29T23:59:59)', undefined],
  // ------------------------------------------------------------------ invalid: shape
  ['', ['is empty', 'rate(5 minutes)']],
  [' cron(0 2 * * ? *)', ['white space', 'write cron(0 2 * * ? *)']],
  ['CRON(0 2 * * ? *)', ['lower case', 'write cron(0 2 * * ? *)']],
  ['0 2 * * ? *', ['not wrapped in cron(...)', 'write cron(0 2 * * ? *)']],
  ['5 minutes', ['not wrapped in rate(...)', 'write rate(5 minutes)']],
  ['every(5 minutes)', ['not a schedule expression type', 'cron(...), rate(...) or at(...)']],
  ['hello', ['is not a schedule expression', 'cron(minutes hours day-of-month month day-of-week year)']],
  [`cron(${'0,'.repeat(130)}0 * * * ? *)`, ["over AWS's limit of 256"]],
  // ------------------------------------------------------------------ invalid: cron field count
  ['cron(0 2 * * *)', ['has 5 fields', 'six', 'year', 'write cron(0 2 * * ? *)']],
  ['cron(0 9 * * 1-5)', ['has 5 fields', 'write cron(0 9 ? * 2-6 *)']],
  ['cron(0 0 2 * * ? *)', ['has 7 fields', 'no seconds', 'write cron(0 2 * * ? *)']],
  ['cron(0 0 2 * * ?)', ['"?" is not a year', 'Quartz', 'write cron(0 2 * * ? *)']],
  ['cron(0 2 * *)', ['has 4 fields', 'minutes hours day-of-month month day-of-week year']],
  ['cron()', ['has 0 fields']],
  // ------------------------------------------------------------------ invalid: values and ranges
  ['cron(60 2 * * ? *)', ['minutes field "60"', '60 is out of range 0-59', 'use a minute from 0 to 59']],
  ['cron(0 24 * * ? *)', ['hours field "24"', 'out of range 0-23', '0 is midnight']],
  ['cron(0 2 0 * ? *)', ['day-of-month field "0"', 'out of range 1-31']],
  ['cron(0 2 32 * ? *)', ['out of range 1-31', 'L for the last day']],
  ['cron(0 2 1 13 ? *)', ['month field "13"', 'out of range 1-12', 'JAN-DEC']],
  ['cron(0 2 1 MON ? *)', ['"MON" is a day name, not a month']],
  ['cron(0 2 ? * 0 *)', ['0 is not a day', '1 = Sunday', 'use 1 or SUN for Sunday']],
  ['cron(0 2 ? * 8 *)', ['8 is out of range 1-7', 'SUN-SAT']],
  ['cron(0 2 ? * JAN *)', ['"JAN" is a month name, not a day of the week']],
  ['cron(0 2 * * ? 1969)', ['1969 is out of range 1970-2199']],
  ['cron(0 2 * * ? 2200)', ['2200 is out of range 1970-2199']],
  // AWS documents hour ranges that wrap past midnight; the other fields stay low-to-high.
  ['cron(0/30 20-2 ? * MON-FRI *)', undefined],
  ['cron(0 5-2 * * ? *)', undefined],
  ['cron(0 22-4/3 * * ? *)', undefined],
  ['cron(50-10 2 * * ? *)', ['the range 50-10 runs backwards', 'write 50-59,0-10 to wrap around']],
  ['cron(0 2 25-5 * ? *)', ['the range 25-5 runs backwards', 'write 25-31,1-5']],
  ['cron(0 2 1 NOV-FEB ? *)', ['runs backwards', 'write NOV-DEC,JAN-FEB']],
  ['cron(0 2 * * ? 2030-2026)', ['runs backwards']],
  // ------------------------------------------------------------------ invalid: never fires
  ['cron(0 2 30 2 ? *)', ['never fires', 'February has no day 30', 'L for the last day']],
  ['cron(0 2 31 APR,JUN ? *)', ['never fires', 'April, June have no day 31']],
  ['cron(0 2 31W 9 ? *)', ['never fires', 'September has no day 31', 'LW']],
  ['cron(0 2 29 2 ? 2027)', ['never fires', 'no date in year 2027 matches month 2, day-of-month 29']],
  ['cron(0 2 ? 2 2#5 2026)', ['never fires', 'day-of-week 2#5']],
  ['cron(0 2 29 2 ? 2028)', undefined],
  ['cron(0 2 ? 2 2#5 2027/4)', ['never fires']],
  ['cron(0 2 ? 3 2#5 2026)', undefined],
  ['cron(0 2 ? * FRI-MON *)', ['runs backwards', 'write FRI-SAT,SUN-MON']],
  ['cron(0 2 ? * SAT-SUN *)', ['runs backwards', 'write SAT,SUN']],
  ['cron(1,,2 2 * * ? *)', ['empty list item', 'remove the extra comma']],
  ['cron(x 2 * * ? *)', ['"x" is not a minute']],
  ['cron(0 1-2-3 * * ? *)', ['"1-2-3" is not a range']],
  ['cron(0 *-3 * * ? *)', ["'*' cannot be part of a range"]],
  // ------------------------------------------------------------------ invalid: steps
  ['cron(*/0 * * * ? *)', ['step of 0', 'e.g. */5']],
  ['cron(0/60 * * * ? *)', ['the step 60', 'never repeats']],
  ['cron(/5 * * * ? *)', ['has a step but no start', 'write */5 or 0/5']],
  ['cron(*/x * * * ? *)', ['is not a whole number']],
  ['cron(0 2 ? * 2/2 *)', ["day-of-week does not take '/' steps", 'MON,WED,FRI']],
  // ------------------------------------------------------------------ invalid: ? and the day fields
  [
    'cron(0 2 1 * MON *)',
    [
      "exactly one of day-of-month and day-of-week must be '?'",
      'write cron(0 2 1 * ? *)',
      'cron(0 2 ? * MON *)',
    ],
  ],
  [
    'cron(0 2 * * * *)',
    ["exactly one of day-of-month and day-of-week must be '?'", 'write cron(0 2 * * ? *)'],
  ],
  ['cron(0 9 * * MON-FRI *)', ["must be '?'", 'write cron(0 9 ? * MON-FRI *)']],
  ['cron(0 2 ? * ? *)', ["both '?'", 'exactly one of day-of-month and day-of-week', 'cron(0 2 * * ? *)']],
  ['cron(? 2 * * ? *)', ["'?' is only allowed in day-of-month and day-of-week", 'use * for every minute']],
  ['cron(0 2 1,? * ? *)', ["'?' must stand alone"]],
  // ------------------------------------------------------------------ invalid: L, W, #
  ['cron(0 2 1,15W * ? *)', ["'W' must stand alone in day-of-month"]],
  ['cron(0 2 W * ? *)', ["'W' needs a day", '15W']],
  ['cron(0 2 32W * ? *)', ['32 is out of range 1-31']],
  ['cron(0 2 L-3 * ? *)', ['no L-n offsets', 'LW']],
  ['cron(0 2 1,L * ? *)', ["'L' must stand alone in day-of-month"]],
  ['cron(0 2 ? * 1,6L *)', ["'L' must stand alone in day-of-week"]],
  ['cron(0 2 L * ? *)', undefined],
  ['cron(0 2 ? * 3#1,6#3 *)', ["only one '#' expression", 'second schedule']],
  ['cron(0 2 ? * 3#2,5 *)', ["a '#' expression must stand alone"]],
  ['cron(0 2 ? * 3#6 *)', ['there is no 6th weekday', 'use 1-5 after #']],
  ['cron(0 2 ? * 3#0 *)', ['there is no 0th weekday']],
  ['cron(0 2 ? * 8#1 *)', ['8 is out of range 1-7']],
  ['cron(0 2 15 * 3#2 *)', ["exactly one of day-of-month and day-of-week must be '?'"]],
  ['cron(0 L * * ? *)', ["'L' is only allowed in day-of-month"]],
  ['cron(0 2 ? 2#1 ? *)', ["'#' is only allowed in day-of-week"]],
  // ------------------------------------------------------------------ invalid: rate
  ['rate(1 minutes)', ['a value of 1 takes the singular unit — write rate(1 minute)']],
  ['rate(1 hours)', ['singular unit — write rate(1 hour)']],
  ['rate(1 days)', ['singular unit — write rate(1 day)']],
  ['rate(5 minute)', ['a value above 1 takes the plural unit — write rate(5 minutes)']],
  ['rate(0 minutes)', ['positive whole number, not 0']],
  ['rate(-5 minutes)', ['positive whole number', 'rate(5 minutes)']],
  ['rate(1.5 hours)', ['whole number', 'write rate(90 minutes)']],
  ['rate(0.5 days)', ['whole number', 'write rate(12 hours)']],
  ['rate(30 seconds)', ['faster than 1 minute are not supported']],
  ['rate(120 seconds)', ['faster than 1 minute', 'write rate(2 minutes)']],
  ['rate(2 weeks)', ['weeks are not a rate unit', 'rate(14 days)']],
  ['rate(1 month)', ['not a rate unit', 'cron(0 0 1 * ? *)']],
  ['rate(5 mins)', ['"mins" is not a rate unit', 'write rate(5 minutes)']],
  [
    'rate(5 lightyears)',
    ['"lightyears" is not a rate unit', 'use minutes, hours or days, e.g. rate(5 minutes)'],
  ],
  ['rate(1 fortnight)', ['"fortnight" is not a rate unit', 'use minute, hour or day, e.g. rate(1 minute)']],
  ['rate(5 Minutes)', ['must be lower case', 'write rate(5 minutes)']],
  ['rate(5)', ['takes a value and a unit']],
  ['rate(five minutes)', ['"five" is not a number']],
  ['rate(05 minutes)', ['leading zeros', 'write rate(5 minutes)']],
  // ------------------------------------------------------------------ invalid: at
  ['at(2026-12-01T09:00)', ['needs seconds', 'write at(2026-12-01T09:00:00)']],
  ['at(2026-12-01 09:00:00)', ['separated by a space', 'write at(2026-12-01T09:00:00)']],
  ['at(2026-12-01T09:00:00Z)', ['without a zone or offset', 'write at(2026-12-01T09:00:00)']],
  ['at(2026-12-01T09:00:00+09:00)', ['without a zone or offset']],
  ['at(2026-12-01)', ['needs a time of day', 'write at(2026-12-01T00:00:00)']],
  ['at(2026-02-29T09:00:00)', ['February 2026 has no day 29', 'it has 28 days', 'at(2026-02-28T09:00:00)']],
  ['at(2026-04-31T09:00:00)', ['April 2026 has no day 31']],
  ['at(2026-13-01T09:00:00)', ['month 13 is out of range']],
  ['at(2026-12-01T24:00:00)', ['hour 24 is out of range']],
  ['at(2026-12-01T09:60:00)', ['minute 60 is out of range']],
  ['at(tomorrow)', ['yyyy-mm-ddThh:mm:ss']],
];

describe('checkScheduleExpression', () => {
  it('has a large table of cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES)('%s', (expression, expected) => {
    const message = checkScheduleExpression(expression);
    if (expected === undefined) {
      expect(message).toBeUndefined();
      return;
    }
    expect(message).toBeDefined();
    for (const part of expected) expect(message).toContain(part);
    // `<what is wrong> — <how to fix>`: exactly one separator, callers split at it.
    expect(message?.split(' — ')).toHaveLength(2);
    expect(message?.startsWith(JSON.stringify(expression))).toBe(true);
  });

  it('every suggested fix that contains an expression is itself valid', () => {
    for (const [expression, expected] of CASES) {
      if (!expected) continue;
      const fix = checkScheduleExpression(expression)?.split(' — ')[1] ?? '';
      for (const suggested of fix.match(/\b(?:cron|rate|at)\([^()]*\)/g) ?? []) {
        // Templates, not suggestions.
        if (/^(cron|rate|at)\((\.\.\.|minutes |value |yyyy)/.test(suggested)) continue;
        expect(checkScheduleExpression(suggested), `${expression} suggests ${suggested}`).toBeUndefined();
      }
    }
  });
});

describe('parseScheduleExpression', () => {
  it('expands cron fields, with AWS day numbers (1 = Sunday)', () => {
    const ast = parseScheduleExpression('cron(0/15 8-10 ? jan,MAR-MAY SUN,MON-TUE 2026-2027)');
    expect(ast).toEqual({
      kind: 'cron',
      expression: 'cron(0/15 8-10 ? jan,MAR-MAY SUN,MON-TUE 2026-2027)',
      fields: {
        minutes: '0/15',
        hours: '8-10',
        dayOfMonth: '?',
        month: 'jan,MAR-MAY',
        dayOfWeek: 'SUN,MON-TUE',
        year: '2026-2027',
      },
      minutes: [0, 15, 30, 45],
      hours: [8, 9, 10],
      dayOfMonth: { type: 'unspecified' },
      months: [1, 3, 4, 5],
      dayOfWeek: { type: 'days', days: [1, 2, 3], all: false },
      years: [2026, 2027],
    });
  });

  it('reads Quartz-style a/n steps to the top of the field', () => {
    const ast = parseScheduleExpression('cron(1/10 22/1 5/10 10/2 ? 2190/3)');
    expect(ast.kind).toBe('cron');
    if (ast.kind !== 'cron') return;
    expect(ast.minutes).toEqual([1, 11, 21, 31, 41, 51]);
    expect(ast.hours).toEqual([22, 23]);
    expect(ast.dayOfMonth).toEqual({ type: 'days', days: [5, 15, 25], all: false });
    expect(ast.months).toEqual([10, 12]);
    expect(ast.years).toEqual([2190, 2193, 2196, 2199]);
  });

  it('parses the special day forms', () => {
    const dom = (f: string) => {
      const ast = parseScheduleExpression(`cron(0 0 ${f} * ? *)`);
      return ast.kind === 'cron' ? ast.dayOfMonth : undefined;
    };
    const dow = (f: string) => {
      const ast = parseScheduleExpression(`cron(0 0 ? * ${f} *)`);
      return ast.kind === 'cron' ? ast.dayOfWeek : undefined;
    };
    expect(dom('L')).toEqual({ type: 'last' });
    expect(dom('lw')).toEqual({ type: 'lastWeekday' });
    expect(dom('15W')).toEqual({ type: 'nearestWeekday', day: 15 });
    expect(dom('*')).toMatchObject({ type: 'days', all: true });
    expect(dow('6L')).toEqual({ type: 'last', day: 6 });
    expect(dow('FRIL')).toEqual({ type: 'last', day: 6 });
    expect(dow('L')).toEqual({ type: 'days', days: [7], all: false });
    expect(dow('3#2')).toEqual({ type: 'nth', day: 3, nth: 2 });
    expect(dow('tue#2')).toEqual({ type: 'nth', day: 3, nth: 2 });
    expect(dow('*')).toEqual({ type: 'days', days: [1, 2, 3, 4, 5, 6, 7], all: true });
  });

  it('parses rate and at', () => {
    expect(parseScheduleExpression('rate(5 minutes)')).toEqual({
      kind: 'rate',
      expression: 'rate(5 minutes)',
      value: 5,
      unit: 'minute',
      intervalMs: 300_000,
    });
    expect(parseScheduleExpression('rate(1 day)')).toMatchObject({ unit: 'day', intervalMs: 86_400_000 });
    expect(parseScheduleExpression('at(2026-12-01T09:05:07)')).toEqual({
      kind: 'at',
      expression: 'at(2026-12-01T09:05:07)',
      year: 2026,
      month: 12,
      day: 1,
      hour: 9,
      minute: 5,
      second: 7,
    });
  });

  it('throws ScheduleExpressionError with the problem and the fix apart', () => {
    let caught: unknown;
    try {
      parseScheduleExpression('rate(1 minutes)');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScheduleExpressionError);
    expect(caught).toBeInstanceOf(Error);
    const error = caught as ScheduleExpressionError;
    expect(error.name).toBe('ScheduleExpressionError');
    expect(error.expression).toBe('rate(1 minutes)');
    expect(error.problem).toBe('a value of 1 takes the singular unit');
    expect(error.fix).toBe('write rate(1 minute)');
    expect(error.message).toBe(
      '"rate(1 minutes)": a value of 1 takes the singular unit — write rate(1 minute)',
    );
  });
});

describe('checkTimeZone', () => {
  it.each(['UTC', 'Europe/Berlin', 'Asia/Seoul', 'America/New_York', 'Australia/Lord_Howe', 'Etc/GMT-1'])(
    'accepts %s',
    (zone) => expect(checkTimeZone(zone)).toBeUndefined(),
  );

  it.each([
    ['Mars/Olympus', 'is not an IANA time zone — use an IANA name'],
    ['', 'the time zone is empty'],
    ['+09:00', 'is a UTC offset'],
    ['UTC+1', 'is a UTC offset'],
    ['asia/seoul', "write 'Asia/Seoul'"],
    ['utc', "write 'UTC'"],
  ])('rejects %j', (zone, part) => {
    const message = checkTimeZone(zone);
    expect(message).toContain(part);
    expect(message?.split(' — ')).toHaveLength(2);
  });
});
