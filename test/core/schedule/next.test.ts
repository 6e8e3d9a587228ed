import { describe, expect, it } from 'vitest';
import { nextFireTimes, ScheduleExpressionError } from '../../../src/core/schedule/index.js';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const next = (expression: string, timezone: string, from: string, count = 3, anchor?: string) =>
  iso(
    nextFireTimes(expression, {
      timezone,
      from: new Date(from),
      count,
      anchor: anchor ? new Date(anchor) : undefined,
    }),
  );

describe('nextFireTimes: cron', () => {
  it('Asia/Seoul (no DST): cron(0 2 * * ? *) fires at 02:00+09:00 three days in a row', () => {
    expect(next('cron(0 2 * * ? *)', 'Asia/Seoul', '2026-11-26T00:00:00+09:00')).toEqual([
      '2026-11-25T17:00:00.000Z', // 2026-11-26 02:00+09:00
      '2026-11-26T17:00:00.000Z',
      '2026-11-27T17:00:00.000Z',
    ]);
  });

  it('returns times strictly after from', () => {
    expect(next('cron(0 2 * * ? *)', 'UTC', '2026-01-01T02:00:00Z', 1)).toEqual(['2026-01-02T02:00:00.000Z']);
    expect(next('cron(0 2 * * ? *)', 'UTC', '2026-01-01T01:59:59.999Z', 1)).toEqual([
      '2026-01-01T02:00:00.000Z',
    ]);
    expect(next('cron(0 2 * * ? *)', 'UTC', '2026-01-01T02:00:00.001Z', 1)).toEqual([
      '2026-01-02T02:00:00.000Z',
    ]);
  });

  it("AWS's documented wrap-around hour range cron(0/30 20-2 ? * MON-FRI *): 20:00-02:30, days checked per fire", () => {
    // 2026-11-27 is a Friday: Friday evening fires until 23:30; Saturday 00:00-02:30 does not (Saturday is not
    // MON-FRI); Monday 00:00-02:30 does, then Monday evening from 20:00.
    const times = next('cron(0/30 20-2 ? * MON-FRI *)', 'UTC', '2026-11-27T19:59:00Z', 30);
    expect(times.slice(0, 8)).toEqual([
      '2026-11-27T20:00:00.000Z',
      '2026-11-27T20:30:00.000Z',
      '2026-11-27T21:00:00.000Z',
      '2026-11-27T21:30:00.000Z',
      '2026-11-27T22:00:00.000Z',
      '2026-11-27T22:30:00.000Z',
      '2026-11-27T23:00:00.000Z',
      '2026-11-27T23:30:00.000Z',
    ]);
    expect(times.slice(8, 15)).toEqual([
      '2026-11-30T00:00:00.000Z',
      '2026-11-30T00:30:00.000Z',
      '2026-11-30T01:00:00.000Z',
      '2026-11-30T01:30:00.000Z',
      '2026-11-30T02:00:00.000Z',
      '2026-11-30T02:30:00.000Z',
      '2026-11-30T20:00:00.000Z',
    ]);
  });

  it('a wrapping hour range with a step counts on across midnight: 22-4/3 is 22, 1, 4', () => {
    expect(next('cron(0 22-4/3 * * ? *)', 'Europe/Berlin', '2026-06-01T12:00:00+02:00', 4)).toEqual([
      '2026-06-01T20:00:00.000Z', // 22:00+02:00
      '2026-06-01T23:00:00.000Z', // 01:00+02:00
      '2026-06-02T02:00:00.000Z', // 04:00+02:00
      '2026-06-02T20:00:00.000Z',
    ]);
  });

  it('respects count', () => {
    expect(next('cron(* * * * ? *)', 'UTC', '2026-01-01T00:00:00Z', 0)).toEqual([]);
    expect(next('cron(* * * * ? *)', 'UTC', '2026-01-01T00:00:00Z', 250)).toHaveLength(250);
  });

  it('numbers day-of-week from 1 = Sunday', () => {
    // 2026-01-01 is a Thursday.
    expect(next('cron(0 9 ? * 1 *)', 'UTC', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-04T09:00:00.000Z',
      '2026-01-11T09:00:00.000Z',
    ]);
    expect(next('cron(0 9 ? * SUN *)', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual([
      '2026-01-04T09:00:00.000Z',
    ]);
    expect(next('cron(0 9 ? * 7 *)', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-03T09:00:00.000Z']);
    expect(next('cron(0 9 ? * L *)', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-03T09:00:00.000Z']);
    expect(next('cron(0 9 ? * 2-6 *)', 'UTC', '2026-01-02T10:00:00Z', 3)).toEqual([
      '2026-01-05T09:00:00.000Z', // Fri 2nd is past 09:00; Mon 5th
      '2026-01-06T09:00:00.000Z',
      '2026-01-07T09:00:00.000Z',
    ]);
  });

  it('L in day-of-month: the last day, leap years included', () => {
    expect(next('cron(0 0 L * ? *)', 'UTC', '2027-12-15T00:00:00Z', 4)).toEqual([
      '2027-12-31T00:00:00.000Z',
      '2028-01-31T00:00:00.000Z',
      '2028-02-29T00:00:00.000Z',
      '2028-03-31T00:00:00.000Z',
    ]);
  });

  it('6L: the last Friday of the month', () => {
    expect(next('cron(15 10 ? * 6L *)', 'UTC', '2026-01-01T00:00:00Z', 4)).toEqual([
      '2026-01-30T10:15:00.000Z',
      '2026-02-27T10:15:00.000Z',
      '2026-03-27T10:15:00.000Z',
      '2026-04-24T10:15:00.000Z',
    ]);
  });

  it('3#2: the second Tuesday; 2#5: the fifth Monday, only in months that have one', () => {
    expect(next('cron(0 0 ? * 3#2 *)', 'UTC', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-13T00:00:00.000Z',
      '2026-02-10T00:00:00.000Z',
      '2026-03-10T00:00:00.000Z',
    ]);
    expect(next('cron(0 0 ? * MON#5 *)', 'UTC', '2026-01-01T00:00:00Z', 4)).toEqual([
      '2026-03-30T00:00:00.000Z',
      '2026-06-29T00:00:00.000Z',
      '2026-08-31T00:00:00.000Z',
      '2026-11-30T00:00:00.000Z',
    ]);
  });

  it('W: the nearest weekday, without leaving the month', () => {
    // 15th: Sun 2026-02-15 → Mon 16th; Sun 2026-03-15 → Mon 16th; Sat 2026-08-15 → Fri 14th.
    expect(next('cron(0 0 15W 2,3,8 ? 2026)', 'UTC', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-02-16T00:00:00.000Z',
      '2026-03-16T00:00:00.000Z',
      '2026-08-14T00:00:00.000Z',
    ]);
    // 1st: Sun 2026-02-01 → Mon 2nd; Sat 2026-08-01 → Mon 3rd (not Fri 31 July).
    expect(next('cron(0 0 1W 2,8 ? 2026)', 'UTC', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-02-02T00:00:00.000Z',
      '2026-08-03T00:00:00.000Z',
    ]);
    // 31st: Sat 2026-01-31 → Fri 30th; Sun 2026-05-31 → Fri 29th; no 31st in February or April.
    expect(next('cron(0 0 31W 1-5 ? 2026)', 'UTC', '2026-01-01T00:00:00Z', 5)).toEqual([
      '2026-01-30T00:00:00.000Z',
      '2026-03-31T00:00:00.000Z',
      '2026-05-29T00:00:00.000Z',
    ]);
  });

  it('LW: the last weekday of the month', () => {
    expect(next('cron(0 18 LW * ? *)', 'UTC', '2026-01-01T00:00:00Z', 5)).toEqual([
      '2026-01-30T18:00:00.000Z', // Sat 31st → Fri 30th
      '2026-02-27T18:00:00.000Z', // Sat 28th → Fri 27th
      '2026-03-31T18:00:00.000Z',
      '2026-04-30T18:00:00.000Z',
      '2026-05-29T18:00:00.000Z', // Sun 31st → Fri 29th
    ]);
  });

  it('year: only the listed years, and nothing after the last', () => {
    expect(next('cron(0 12 1 1 ? 2027,2029)', 'UTC', '2026-06-01T00:00:00Z', 5)).toEqual([
      '2027-01-01T12:00:00.000Z',
      '2029-01-01T12:00:00.000Z',
    ]);
    expect(next('cron(0 0 1 1 ? 2026/2)', 'UTC', '2026-06-01T00:00:00Z', 3)).toEqual([
      '2028-01-01T00:00:00.000Z',
      '2030-01-01T00:00:00.000Z',
      '2032-01-01T00:00:00.000Z',
    ]);
    expect(next('cron(0 0 31 12 ? 2199)', 'UTC', '2026-06-01T00:00:00Z', 3)).toEqual([
      '2199-12-31T00:00:00.000Z',
    ]);
  });

  it('ends quickly when nothing can fire any more', () => {
    const started = Date.now();
    expect(next('cron(0 0 * * ? 1999)', 'UTC', '2026-01-01T00:00:00Z')).toEqual([]);
    expect(next('cron(0 0 29 2 ? 2020,2024)', 'UTC', '2026-01-01T00:00:00Z')).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('rejects a cron whose day fields match no date at all (it could never fire)', () => {
    for (const expr of ['cron(0 0 30 2 ? *)', 'cron(0 0 29 2 ? 2027,2029,2031)', 'cron(0 0 31W 2 ? *)']) {
      expect(() => next(expr, 'UTC', '2026-01-01T00:00:00Z')).toThrow(/never fires/);
    }
  });

  it('throws ScheduleExpressionError for an invalid expression, RangeError for bad options', () => {
    expect(() => next('cron(0 2 * * *)', 'UTC', '2026-01-01T00:00:00Z')).toThrow(ScheduleExpressionError);
    expect(() => next('cron(0 2 * * ? *)', 'Mars/Olympus', '2026-01-01T00:00:00Z')).toThrow(RangeError);
    expect(() => next('cron(0 2 * * ? *)', 'UTC', 'not a date')).toThrow(RangeError);
    expect(() => next('cron(0 2 * * ? *)', 'UTC', '2026-01-01T00:00:00Z', -1)).toThrow(RangeError);
    expect(() => next('cron(0 2 * * ? *)', 'UTC', '2026-01-01T00:00:00Z', 1.5)).toThrow(RangeError);
  });
});

describe('nextFireTimes: DST (AWS: a time in a spring-forward gap is skipped, a repeated time fires once)', () => {
  describe('America/New_York (2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST)', () => {
    it('spring forward: 02:30 does not exist on 2026-03-08, so that day is skipped', () => {
      expect(next('cron(30 2 * * ? *)', 'America/New_York', '2026-03-07T00:00:00Z')).toEqual([
        '2026-03-07T07:30:00.000Z', // 02:30 EST
        '2026-03-09T06:30:00.000Z', // 02:30 EDT
        '2026-03-10T06:30:00.000Z',
      ]);
    });

    it('spring forward: 03:00 exists and fires', () => {
      expect(next('cron(0 3 * * ? *)', 'America/New_York', '2026-03-07T12:00:00Z', 2)).toEqual([
        '2026-03-08T07:00:00.000Z', // 03:00 EDT
        '2026-03-09T07:00:00.000Z',
      ]);
    });

    it('spring forward: an every-30-minutes cron jumps from 01:30 EST to 03:00 EDT', () => {
      expect(next('cron(0/30 * * * ? *)', 'America/New_York', '2026-03-08T06:15:00Z', 3)).toEqual([
        '2026-03-08T06:30:00.000Z', // 01:30 EST
        '2026-03-08T07:00:00.000Z', // 03:00 EDT
        '2026-03-08T07:30:00.000Z', // 03:30 EDT
      ]);
    });

    it('fall back: 01:30 occurs twice on 2026-11-01 and fires once, at the first (EDT)', () => {
      expect(next('cron(30 1 * * ? *)', 'America/New_York', '2026-10-31T12:00:00Z')).toEqual([
        '2026-11-01T05:30:00.000Z', // 01:30 EDT
        '2026-11-02T06:30:00.000Z', // 01:30 EST
        '2026-11-03T06:30:00.000Z',
      ]);
    });

    it('fall back: an every-30-minutes cron does not repeat the hour', () => {
      expect(next('cron(0/30 * * * ? *)', 'America/New_York', '2026-11-01T04:45:00Z', 4)).toEqual([
        '2026-11-01T05:00:00.000Z', // 01:00 EDT
        '2026-11-01T05:30:00.000Z', // 01:30 EDT
        // 01:00 EST (06:00Z) and 01:30 EST (06:30Z) already fired
        '2026-11-01T07:00:00.000Z', // 02:00 EST
        '2026-11-01T07:30:00.000Z',
      ]);
    });
  });

  describe('Europe/Berlin (2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET)', () => {
    it('spring forward: 02:30 is skipped on 2026-03-29', () => {
      expect(next('cron(30 2 * * ? *)', 'Europe/Berlin', '2026-03-28T00:00:00Z')).toEqual([
        '2026-03-28T01:30:00.000Z', // 02:30 CET
        '2026-03-30T00:30:00.000Z', // 02:30 CEST
        '2026-03-31T00:30:00.000Z',
      ]);
    });

    it('fall back: 02:30 fires once, in summer time', () => {
      expect(next('cron(30 2 * * ? *)', 'Europe/Berlin', '2026-10-24T12:00:00Z')).toEqual([
        '2026-10-25T00:30:00.000Z', // 02:30 CEST
        '2026-10-26T01:30:00.000Z', // 02:30 CET
        '2026-10-27T01:30:00.000Z',
      ]);
    });

    it('fall back: minutes in the repeated hour fire on the first pass only', () => {
      expect(next('cron(0/20 2 * * ? *)', 'Europe/Berlin', '2026-10-24T12:00:00Z', 5)).toEqual([
        '2026-10-25T00:00:00.000Z', // 02:00 CEST
        '2026-10-25T00:20:00.000Z',
        '2026-10-25T00:40:00.000Z',
        '2026-10-26T01:00:00.000Z', // 02:00 CET, next day
        '2026-10-26T01:20:00.000Z',
      ]);
    });

    it('fall back: starting inside the second pass, times already fired are not repeated', () => {
      // 01:10Z is 02:10 CET, the second 02:10 of the night; 02:20 and 02:40 fired in the first pass.
      expect(next('cron(0/20 2 * * ? *)', 'Europe/Berlin', '2026-10-25T01:10:00Z', 1)).toEqual([
        '2026-10-26T01:00:00.000Z',
      ]);
      expect(next('cron(0/20 * * * ? *)', 'Europe/Berlin', '2026-10-25T01:10:00Z', 1)).toEqual([
        '2026-10-25T02:00:00.000Z', // 03:00 CET
      ]);
    });

    it('W and L evaluate the wall-clock date of the zone', () => {
      // 23:30 on the last day of March in Berlin is 21:30Z in summer time.
      expect(next('cron(30 23 L 3 ? 2026)', 'Europe/Berlin', '2026-01-01T00:00:00Z', 1)).toEqual([
        '2026-03-31T21:30:00.000Z',
      ]);
    });
  });
});

describe('nextFireTimes: rate', () => {
  it('anchors at from by default: from + k × interval', () => {
    expect(next('rate(5 minutes)', 'UTC', '2026-01-01T00:00:30.250Z')).toEqual([
      '2026-01-01T00:05:30.250Z',
      '2026-01-01T00:10:30.250Z',
      '2026-01-01T00:15:30.250Z',
    ]);
  });

  it('counts from an anchor in the past, strictly after from', () => {
    expect(next('rate(1 hour)', 'UTC', '2026-01-01T10:00:00Z', 2, '2026-01-01T08:00:00Z')).toEqual([
      '2026-01-01T11:00:00.000Z',
      '2026-01-01T12:00:00.000Z',
    ]);
    expect(next('rate(1 hour)', 'UTC', '2026-01-01T10:20:00Z', 2, '2026-01-01T08:00:00Z')).toEqual([
      '2026-01-01T11:00:00.000Z',
      '2026-01-01T12:00:00.000Z',
    ]);
  });

  it('starts at a future anchor (a StartDate)', () => {
    expect(next('rate(2 days)', 'UTC', '2026-01-01T00:00:00Z', 2, '2026-02-01T06:00:00Z')).toEqual([
      '2026-02-01T06:00:00.000Z',
      '2026-02-03T06:00:00.000Z',
    ]);
  });

  it('a day is 24 hours across DST, so the wall-clock time moves', () => {
    expect(
      next('rate(1 day)', 'America/New_York', '2026-03-07T17:00:00Z', 2, '2026-03-07T17:00:00Z'),
    ).toEqual([
      '2026-03-08T17:00:00.000Z', // 13:00 EDT: 24 h after 12:00 EST
      '2026-03-09T17:00:00.000Z',
    ]);
  });
});

describe('nextFireTimes: at', () => {
  it('reads the time in the zone, and returns it only if after from', () => {
    expect(next('at(2026-12-01T09:00:00)', 'Asia/Seoul', '2026-01-01T00:00:00Z')).toEqual([
      '2026-12-01T00:00:00.000Z',
    ]);
    expect(next('at(2026-12-01T09:00:00)', 'UTC', '2026-01-01T00:00:00Z', 5)).toEqual([
      '2026-12-01T09:00:00.000Z',
    ]);
    expect(next('at(2026-12-01T09:00:00)', 'UTC', '2026-12-01T09:00:00Z')).toEqual([]);
    expect(next('at(2026-12-01T09:00:00)', 'UTC', '2026-01-01T00:00:00Z', 0)).toEqual([]);
  });

  it('a time in a gap moves forward by the gap; a repeated time is its first occurrence', () => {
    expect(next('at(2026-03-08T02:30:00)', 'America/New_York', '2026-01-01T00:00:00Z')).toEqual([
      '2026-03-08T07:30:00.000Z', // 03:30 EDT
    ]);
    expect(next('at(2026-11-01T01:30:00)', 'America/New_York', '2026-01-01T00:00:00Z')).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
    ]);
  });
});
