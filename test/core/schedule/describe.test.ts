import { describe, expect, it } from 'vitest';
import { describeSchedule, ScheduleExpressionError } from '../../../src/core/schedule/index.js';

describe('describeSchedule', () => {
  it.each([
    ['cron(0 2 * * ? *)', 'Asia/Seoul', 'at 02:00 every day (Asia/Seoul)'],
    ['rate(5 minutes)', 'UTC', 'every 5 minutes'],
    ['rate(1 minute)', 'UTC', 'every minute'],
    ['rate(1 hour)', 'UTC', 'every hour'],
    ['rate(2 days)', 'UTC', 'every 2 days'],
    ['at(2026-12-01T09:00:00)', 'UTC', 'once at 2026-12-01 09:00 (UTC)'],
    ['at(2026-12-01T09:00:30)', 'Europe/Berlin', 'once at 2026-12-01 09:00:30 (Europe/Berlin)'],
    ['cron(15 10 ? * 6L *)', 'UTC', 'at 10:15 on the last Friday of the month (UTC)'],
    [
      'cron(0/5 8-17 ? * MON-FRI *)',
      'UTC',
      'every 5 minutes between 08:00 and 17:59 on Monday through Friday (UTC)',
    ],
    ['cron(* * * * ? *)', 'UTC', 'every minute (UTC)'],
    ['cron(0 * * * ? *)', 'UTC', 'at minute 0 of every hour (UTC)'],
    ['cron(0 0/2 * * ? *)', 'UTC', 'every 2 hours at minute 0 (UTC)'],
    ['cron(0 8,12,18 * * ? *)', 'UTC', 'at 08:00, 12:00 and 18:00 every day (UTC)'],
    ['cron(0 0 1,15 * ? *)', 'UTC', 'at 00:00 on days 1 and 15 of the month (UTC)'],
    ['cron(0 0 L * ? *)', 'UTC', 'at 00:00 on the last day of the month (UTC)'],
    ['cron(0 0 LW * ? *)', 'UTC', 'at 00:00 on the last weekday of the month (UTC)'],
    ['cron(0 0 15W * ? *)', 'UTC', 'at 00:00 on the weekday nearest day 15 of the month (UTC)'],
    ['cron(0 12 ? * 3#2 *)', 'UTC', 'at 12:00 on the second Tuesday of the month (UTC)'],
    ['cron(0 12 ? * 1,7 *)', 'UTC', 'at 12:00 on Sunday and Saturday (UTC)'],
    ['cron(0 12 ? * 1-7 *)', 'UTC', 'at 12:00 every day (UTC)'],
    ['cron(0 0 1 JAN,JUL ? *)', 'UTC', 'at 00:00 on day 1 of January and July (UTC)'],
    ['cron(30 9 ? 3 6L 2027)', 'UTC', 'at 09:30 on the last Friday of March in 2027 (UTC)'],
    [
      'cron(0 0 * MAR-MAY ? 2026-2030)',
      'UTC',
      'at 00:00 every day in March through May in 2026 through 2030 (UTC)',
    ],
    // A range of hours that wraps past midnight reads as the hours it names.
    [
      'cron(0/30 20-2 ? * MON-FRI *)',
      'UTC',
      'every 30 minutes during hours 0-2 and 20-23 on Monday through Friday (UTC)',
    ],
    ['cron(0 22-4/3 * * ? *)', 'UTC', 'at 01:00, 04:00 and 22:00 every day (UTC)'],
  ])('%s in %s → %s', (expression, timezone, words) => {
    expect(describeSchedule(expression, timezone)).toBe(words);
  });

  it('defaults to UTC and rejects invalid expressions', () => {
    expect(describeSchedule('cron(0 2 * * ? *)')).toBe('at 02:00 every day (UTC)');
    expect(() => describeSchedule('cron(0 2 * * *)', 'UTC')).toThrow(ScheduleExpressionError);
  });
});
