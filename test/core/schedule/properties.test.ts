/**
 * Property tests: nextFireTimes against a slow, independent reference that enumerates wall-clock dates
 * and times in the zone, resolves each by brute force over UTC offsets, skips times in a DST gap and
 * keeps only the first occurrence of a repeated time (AWS's documented DST behaviour).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkScheduleExpression,
  describeSchedule,
  nextFireTimes,
  parseScheduleExpression,
} from '../../../src/core/schedule/index.js';

// ------------------------------------------------------------------------------- reference calendar

const MINUTE = 60_000;
const DAY = 86_400_000;

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const fmt = new Map<string, Intl.DateTimeFormat>();
function wallOf(ms: number, tz: string): Wall {
  let f = fmt.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    fmt.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return {
    year: +(p.year ?? 0),
    month: +(p.month ?? 0),
    day: +(p.day ?? 0),
    hour: +(p.hour ?? 0) % 24,
    minute: +(p.minute ?? 0),
  };
}
const sameWall = (a: Wall, b: Wall) =>
  a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute;

/** Every instant showing `w` in `tz`, by trying every offset from -12:00 to +14:00 in 15-minute steps. */
const instantsMemo = new Map<string, number[]>();
function instantsOf(w: Wall, tz: string): number[] {
  const key = `${tz} ${w.year}-${w.month}-${w.day} ${w.hour}:${w.minute}`;
  const memo = instantsMemo.get(key);
  if (memo) return memo;
  const found = bruteForceInstants(w, tz);
  instantsMemo.set(key, found);
  return found;
}

function bruteForceInstants(w: Wall, tz: string): number[] {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  const out: number[] = [];
  for (let off = -12 * 60; off <= 14 * 60; off += 15) {
    const t = asUtc - off * MINUTE;
    if (sameWall(wallOf(t, tz), w)) out.push(t);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

const lastDay = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
const weekday = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d)).getUTCDay(); // 0 = Sun
const isWeekday = (y: number, m: number, d: number) => weekday(y, m, d) >= 1 && weekday(y, m, d) <= 5;

type DomRef = { t: '?' } | { t: 'days'; days: number[] } | { t: 'L' } | { t: 'LW' } | { t: 'W'; day: number };
type DowRef =
  | { t: '?' }
  | { t: 'days'; days: number[] }
  | { t: 'nL'; day: number }
  | { t: '#'; day: number; nth: number };

function domMatches(r: DomRef, y: number, m: number, d: number): boolean {
  const last = lastDay(y, m);
  switch (r.t) {
    case '?':
      return true;
    case 'days':
      return r.days.includes(d);
    case 'L':
      return d === last;
    case 'LW': {
      let x = last;
      while (!isWeekday(y, m, x)) x--;
      return d === x;
    }
    case 'W': {
      // The weekday of the month closest to the target day (ties cannot happen).
      if (r.day > last) return false;
      let best = -1;
      for (let x = 1; x <= last; x++) {
        if (isWeekday(y, m, x) && (best === -1 || Math.abs(x - r.day) < Math.abs(best - r.day))) best = x;
      }
      return d === best;
    }
  }
}

function dowMatches(r: DowRef, y: number, m: number, d: number): boolean {
  const aws = weekday(y, m, d) + 1;
  switch (r.t) {
    case '?':
      return true;
    case 'days':
      return r.days.includes(aws);
    case 'nL':
      return aws === r.day && d + 7 > lastDay(y, m);
    case '#':
      return aws === r.day && Math.floor((d - 1) / 7) + 1 === r.nth;
  }
}

interface CronRef {
  text: string;
  minutes: readonly number[];
  hours: readonly number[];
  dom: DomRef;
  months: readonly number[];
  dow: DowRef;
  years: readonly number[] | undefined; // undefined = every year
}

function refMatchesDay(c: CronRef, y: number, m: number, d: number): boolean {
  return (
    c.months.includes(m) &&
    (c.years === undefined || c.years.includes(y)) &&
    domMatches(c.dom, y, m, d) &&
    dowMatches(c.dow, y, m, d)
  );
}

function refMatches(c: CronRef, w: Wall): boolean {
  return c.minutes.includes(w.minute) && c.hours.includes(w.hour) && refMatchesDay(c, w.year, w.month, w.day);
}

/** True when some date of the expression's years (1970-2199 for `*`) matches every day field. */
function refFiresSomeDay(c: CronRef): boolean {
  for (let y = 1970; y <= 2199; y++) {
    if (c.years !== undefined && !c.years.includes(y)) continue;
    for (const m of c.months) {
      for (let d = 1; d <= lastDay(y, m); d++) if (refMatchesDay(c, y, m, d)) return true;
    }
  }
  return false;
}

/** The reference fire times, looking `horizonDays` of wall-clock dates ahead. */
function referenceTimes(c: CronRef, tz: string, from: number, count: number, horizonDays: number): number[] {
  const start = wallOf(from, tz);
  const fromWall = Date.UTC(start.year, start.month - 1, start.day, start.hour, start.minute);
  const out: number[] = [];
  for (let i = 0; i <= horizonDays && out.length < count; i++) {
    const date = new Date(Date.UTC(start.year, start.month - 1, start.day) + i * DAY);
    const y = date.getUTCFullYear();
    const m = date.getUTCMonth() + 1;
    const d = date.getUTCDate();
    if (!refMatchesDay(c, y, m, d)) continue;
    for (const hour of c.hours) {
      for (const minute of c.minutes) {
        if (out.length >= count) return out;
        // A wall time hours before from's wall time cannot come after from (clocks go back 1-2 h at most).
        if (Date.UTC(y, m - 1, d, hour, minute) < fromWall - 4 * 3_600_000) continue;
        const first = instantsOf({ year: y, month: m, day: d, hour, minute }, tz)[0];
        // No instant: a spring-forward gap, skipped. Otherwise the first occurrence only.
        if (first !== undefined && first > from && out.length < count) out.push(first);
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------- generators

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const range = (a: number, b: number, step = 1) =>
  Array.from({ length: Math.floor((b - a) / step) + 1 }, (_, i) => a + i * step);
const uniqSorted = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);

/** A plain numeric field: `*`, a list, a range, `a/n`, `*\/n` or `a-b/n`, with its value set. */
function plainField(min: number, max: number, names?: string[], maxListLength = 4) {
  const name = (v: number) =>
    names
      ? fc.constantFrom(String(v), (names[v - min] ?? '').toLowerCase(), names[v - min] ?? '')
      : fc.constant(String(v));
  const value = fc.integer({ min, max });
  return fc.oneof(
    fc.constant({ text: '*', set: range(min, max) }),
    fc
      .uniqueArray(value, { minLength: 1, maxLength: maxListLength })
      .chain((vs) =>
        fc.tuple(...vs.map(name)).map((texts) => ({ text: texts.join(','), set: uniqSorted(vs) })),
      ),
    fc
      .tuple(value, value)
      .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const)
      .chain(([a, b]) =>
        fc.tuple(name(a), name(b)).map(([ta, tb]) => ({ text: `${ta}-${tb}`, set: range(a, b) })),
      ),
    fc
      .tuple(value, fc.integer({ min: 1, max: Math.max(1, Math.min(max - min, 20)) }))
      .map(([a, n]) => ({ text: `${a}/${n}`, set: range(a, max, n) })),
    fc
      .integer({ min: 2, max: Math.max(2, Math.min(max - min, 20)) })
      .map((n) => ({ text: `*/${n}`, set: range(min, max, n) })),
    fc
      .tuple(value, value, fc.integer({ min: 1, max: 7 }))
      .map(([a, b, n]) => ({ a: Math.min(a, b), b: Math.max(a, b), n }))
      .filter(({ n }) => n < max - min + 1)
      .map(({ a, b, n }) => ({ text: `${a}-${b}/${n}`, set: range(a, b, n) })),
  );
}

/** Minutes and hours small enough for the brute-force reference to stay quick. */
const minutesArb = fc.oneof(
  plainField(0, 59, undefined, 3).filter((f) => f.set.length <= 6),
  fc.constant({ text: '0/15', set: [0, 15, 30, 45] }),
);
const hoursArb = fc.oneof(
  plainField(0, 23, undefined, 3).filter((f) => f.set.length <= 6),
  // The hours of most DST changes, to hit gaps and overlaps often.
  fc.constantFrom(
    { text: '0-3', set: [0, 1, 2, 3] },
    { text: '1,2', set: [1, 2] },
    { text: '2', set: [2] },
    { text: '23,0', set: [0, 23] },
  ),
  // Ranges that wrap past midnight (AWS's own example is 20-2), with or without a step: the set counts on
  // from the start through 23 and on from 0 to the end.
  fc
    .tuple(fc.integer({ min: 19, max: 23 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 }))
    .map(([a, b, n]) => {
      const hours = [...range(a, 23), ...range(0, b)].filter((_, i) => i % n === 0);
      return { text: n === 1 ? `${a}-${b}` : `${a}-${b}/${n}`, set: uniqSorted(hours) };
    }),
);
const domArb: fc.Arbitrary<{ text: string; ref: DomRef }> = fc.oneof(
  plainField(1, 31, undefined, 3).map((f) => ({ text: f.text, ref: { t: 'days', days: f.set } as DomRef })),
  fc.constant({ text: 'L', ref: { t: 'L' } as DomRef }),
  fc.constant({ text: 'LW', ref: { t: 'LW' } as DomRef }),
  fc.integer({ min: 1, max: 31 }).map((day) => ({ text: `${day}W`, ref: { t: 'W', day } as DomRef })),
);
const dowDay = fc
  .integer({ min: 1, max: 7 })
  .chain((d) => fc.constantFrom(String(d), DAY_NAMES[d - 1] ?? '').map((text) => ({ d, text })));
const dowArb: fc.Arbitrary<{ text: string; ref: DowRef }> = fc.oneof(
  plainField(1, 7, DAY_NAMES, 3)
    .filter((f) => !f.text.includes('/'))
    .map((f) => ({ text: f.text, ref: { t: 'days', days: f.set } as DowRef })),
  dowDay.map(({ d, text }) => ({ text: `${text}L`, ref: { t: 'nL', day: d } as DowRef })),
  fc
    .tuple(dowDay, fc.integer({ min: 1, max: 5 }))
    .map(([{ d, text }, nth]) => ({ text: `${text}#${nth}`, ref: { t: '#', day: d, nth } as DowRef })),
);
const yearsArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ text: '*', set: undefined as number[] | undefined }) },
  {
    weight: 1,
    arbitrary: fc
      .uniqueArray(fc.integer({ min: 2015, max: 2032 }), { minLength: 1, maxLength: 3 })
      .map((ys) => ({ text: ys.join(','), set: uniqSorted(ys) as number[] | undefined })),
  },
);

/** Every generated expression, including the few whose day fields match no date (`1#5` in a short February). */
const anyCronArb: fc.Arbitrary<CronRef> = fc
  .record({
    minutes: minutesArb,
    hours: hoursArb,
    day: fc.oneof(
      domArb.map((dom) => ({ dom, dow: { text: '?', ref: { t: '?' } as DowRef } })),
      dowArb.map((dow) => ({ dom: { text: '?', ref: { t: '?' } as DomRef }, dow })),
    ),
    months: plainField(1, 12, MONTH_NAMES, 4),
    years: yearsArb,
  })
  .map(({ minutes, hours, day, months, years }) => ({
    text: `cron(${minutes.text} ${hours.text} ${day.dom.text} ${months.text} ${day.dow.text} ${years.text})`,
    minutes: minutes.set,
    hours: hours.set,
    dom: day.dom.ref,
    months: months.set,
    dow: day.dow.ref,
    years: years.set,
  }));
/** Expressions that fire at least once (AWS-valid; one that can never fire is rejected by the parser). */
const cronArb = anyCronArb.filter(refFiresSomeDay);

const ZONES = [
  'UTC',
  'America/New_York',
  'Europe/Berlin',
  'Asia/Seoul',
  'Australia/Lord_Howe', // 30-minute DST
  'America/Sao_Paulo', // DST changes at midnight until 2019
  'America/Havana', // DST changes at midnight
  'Asia/Kathmandu', // +05:45
  'Pacific/Chatham', // +12:45 / +13:45
];
const zoneArb = fc.constantFrom(...ZONES);
const fromArb = fc
  .integer({ min: Date.UTC(2015, 0, 1), max: Date.UTC(2031, 0, 1) })
  .map((ms) => new Date(Math.floor(ms / 1000) * 1000));
/** Often start a little before a DST change in the northern or southern hemisphere. */
const dstFromArb = fc.oneof(
  fromArb,
  fc
    .tuple(
      fc.integer({ min: 2015, max: 2030 }),
      fc.constantFrom(2, 3, 9, 10, 3, 10),
      fc.integer({ min: 1, max: 28 }),
      fc.integer({ min: 0, max: 23 }),
    )
    .map(([y, m, d, h]) => new Date(Date.UTC(y, m, d, h))),
);

const DST_ZONES = [
  'America/New_York',
  'Europe/Berlin',
  'Australia/Lord_Howe',
  'America/Sao_Paulo',
  'America/Havana',
  'Pacific/Chatham',
];
const offsetOf = (t: number, tz: string) => {
  const w = wallOf(t, tz);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute) - Math.floor(t / MINUTE) * MINUTE;
};
const transitionCache = new Map<string, number[]>();
/** The instants (to the minute) at which the zone's UTC offset changes during `year`. */
function transitions(tz: string, year: number): number[] {
  const key = `${tz} ${year}`;
  const cached = transitionCache.get(key);
  if (cached) return cached;
  const out: number[] = [];
  for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += DAY) {
    if (offsetOf(t, tz) === offsetOf(t + DAY, tz)) continue;
    let lo = t;
    let hi = t + DAY;
    while (hi - lo > MINUTE) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
      if (offsetOf(mid, tz) === offsetOf(lo, tz)) lo = mid;
      else hi = mid;
    }
    out.push(hi);
  }
  transitionCache.set(key, out);
  return out;
}

// ------------------------------------------------------------------------------------------- tests

const HORIZON_DAYS = 3 * 366;

describe('properties of nextFireTimes for cron', () => {
  it('generated AWS expressions are valid', () => {
    fc.assert(
      fc.property(cronArb, (c) => {
        expect(checkScheduleExpression(c.text)).toBeUndefined();
        expect(describeSchedule(c.text, 'UTC')).toMatch(/\(UTC\)$/);
      }),
      { numRuns: 500 },
    );
  });

  it('an expression is rejected as never firing exactly when no date matches its day fields', () => {
    fc.assert(
      fc.property(anyCronArb, (c) => {
        const problem = checkScheduleExpression(c.text);
        if (refFiresSomeDay(c)) expect(problem).toBeUndefined();
        else expect(problem).toMatch(/never fires/);
      }),
      { numRuns: 500 },
    );
  });

  it('equals the brute-force reference, DST gaps and overlaps included', () => {
    fc.assert(
      fc.property(cronArb, zoneArb, dstFromArb, fc.integer({ min: 1, max: 8 }), (c, tz, from, count) => {
        const horizon = from.getTime() + (HORIZON_DAYS - 2) * DAY;
        const actual = nextFireTimes(c.text, { timezone: tz, from, count })
          .map((d) => d.getTime())
          .filter((t) => t < horizon);
        const expected = referenceTimes(c, tz, from.getTime(), count, HORIZON_DAYS).filter(
          (t) => t < horizon,
        );
        expect(actual.map((t) => new Date(t).toISOString())).toEqual(
          expected.map((t) => new Date(t).toISOString()),
        );
      }),
      { numRuns: 250 },
    );
  });

  it('equals the reference right around DST changes', () => {
    const dstCron = fc
      .record({
        minutes: fc.oneof(
          minutesArb,
          fc.constantFrom({ text: '*', set: range(0, 59) }, { text: '0/10', set: range(0, 50, 10) }),
        ),
        zone: fc.constantFrom(...DST_ZONES),
        year: fc.integer({ min: 2015, max: 2030 }),
        which: fc.integer({ min: 0, max: 1 }),
        before: fc.integer({ min: 0, max: 240 }),
        spread: fc.integer({ min: -2, max: 3 }),
        count: fc.integer({ min: 1, max: 12 }),
      })
      .filter((r) => transitions(r.zone, r.year).length > 0) // Sao Paulo has had no DST since 2019
      .map((r) => {
        const changes = transitions(r.zone, r.year);
        const change = changes[r.which] ?? changes[0] ?? 0;
        // Every wall hour from a little before to a little after the change, or (spread < 0) the one
        // hour that is skipped or repeated, which croner treats as a fixed-time job.
        const hours =
          r.spread === -2
            ? [(wallOf(change - MINUTE, r.zone).hour + 1) % 24]
            : r.spread === -1
              ? [wallOf(change, r.zone).hour]
              : uniqSorted(
                  range(-r.spread - 1, r.spread + 1).map((k) => wallOf(change + k * 3_600_000, r.zone).hour),
                );
        const c: CronRef = {
          text: `cron(${r.minutes.text} ${hours.join(',')} * * ? *)`,
          minutes: r.minutes.set,
          hours,
          dom: { t: 'days', days: range(1, 31) },
          months: range(1, 12),
          dow: { t: '?' },
          years: undefined,
        };
        return { c, zone: r.zone, from: change - r.before * MINUTE, count: r.count };
      });
    fc.assert(
      fc.property(dstCron, ({ c, zone, from, count }) => {
        const horizon = from + 3 * DAY;
        const actual = nextFireTimes(c.text, { timezone: zone, from: new Date(from), count })
          .filter((d) => d.getTime() < horizon)
          .map((d) => d.toISOString());
        const expected = referenceTimes(c, zone, from, count, 5)
          .filter((t) => t < horizon)
          .map((t) => new Date(t).toISOString());
        expect(actual).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('results are strictly increasing, after from, at most count, on whole minutes, and match the fields on the wall clock', () => {
    fc.assert(
      fc.property(cronArb, zoneArb, dstFromArb, fc.integer({ min: 0, max: 40 }), (c, tz, from, count) => {
        const times = nextFireTimes(c.text, { timezone: tz, from, count });
        expect(times.length).toBeLessThanOrEqual(count);
        let previous = from.getTime();
        const walls = new Set<string>();
        for (const t of times) {
          expect(t.getTime()).toBeGreaterThan(previous);
          expect(t.getTime() % MINUTE).toBe(0);
          previous = t.getTime();
          const wall = wallOf(t.getTime(), tz);
          expect(refMatches(c, wall)).toBe(true);
          // A repeated wall time (DST fall-back) fires once.
          const key = JSON.stringify(wall);
          expect(walls.has(key)).toBe(false);
          walls.add(key);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('returns exactly count times when every year is allowed and the day exists every year', () => {
    const everyYear = cronArb.filter(
      (c) =>
        c.years === undefined &&
        c.months.length === 12 &&
        (c.dom.t !== 'days' || c.dom.days.some((d) => d <= 28)),
    );
    fc.assert(
      fc.property(everyYear, zoneArb, fromArb, fc.integer({ min: 1, max: 30 }), (c, tz, from, count) => {
        expect(nextFireTimes(c.text, { timezone: tz, from, count })).toHaveLength(count);
      }),
      { numRuns: 200 },
    );
  });

  it('continuing from the last result gives the same sequence', () => {
    fc.assert(
      fc.property(cronArb, zoneArb, dstFromArb, (c, tz, from) => {
        const all = nextFireTimes(c.text, { timezone: tz, from, count: 6 });
        const head = nextFireTimes(c.text, { timezone: tz, from, count: 3 });
        const last = head.at(-1);
        const tail = last ? nextFireTimes(c.text, { timezone: tz, from: last, count: 3 }) : [];
        expect([...head, ...tail].map((d) => d.getTime())).toEqual(all.map((d) => d.getTime()));
      }),
      { numRuns: 150 },
    );
  });
});

describe('properties of nextFireTimes for rate and at', () => {
  const rateArb = fc
    .tuple(fc.integer({ min: 1, max: 500 }), fc.constantFrom('minute', 'hour', 'day'))
    .map(([n, unit]) => ({
      text: `rate(${n} ${n === 1 ? unit : `${unit}s`})`,
      ms: n * { minute: MINUTE, hour: 3_600_000, day: DAY }[unit],
    }));

  it('rate results are evenly spaced from the anchor, the first within one interval after from', () => {
    fc.assert(
      fc.property(
        rateArb,
        zoneArb,
        fromArb,
        fc.option(fromArb),
        fc.integer({ min: 0, max: 50 }),
        (r, tz, from, anchor, count) => {
          const times = nextFireTimes(r.text, { timezone: tz, from, count, anchor: anchor ?? undefined }).map(
            (d) => d.getTime(),
          );
          expect(times).toHaveLength(count);
          const base = (anchor ?? from).getTime();
          for (const [i, t] of times.entries()) {
            expect((t - base) % r.ms).toBe(0);
            if (i > 0) expect(t - (times[i - 1] ?? 0)).toBe(r.ms);
          }
          const first = times[0];
          if (first !== undefined) {
            expect(first).toBeGreaterThan(from.getTime());
            if (base <= from.getTime()) expect(first - from.getTime()).toBeLessThanOrEqual(r.ms);
            else expect(first).toBe(base);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('at() fires once, at the wall time in the zone, only if after from', () => {
    fc.assert(
      fc.property(fromArb, zoneArb, fromArb, (when, tz, from) => {
        const w = wallOf(when.getTime(), tz);
        const p = (n: number) => String(n).padStart(2, '0');
        const text = `at(${w.year}-${p(w.month)}-${p(w.day)}T${p(w.hour)}:${p(w.minute)}:00)`;
        const times = nextFireTimes(text, { timezone: tz, from, count: 3 });
        const expected = instantsOf(w, tz)[0] ?? Number.NaN;
        expect(times.map((d) => d.getTime())).toEqual(expected > from.getTime() ? [expected] : []);
      }),
      { numRuns: 200 },
    );
  });
});

describe('properties of checkScheduleExpression', () => {
  const tokens = [
    '*',
    '?',
    'L',
    'W',
    'LW',
    '#',
    '/',
    '-',
    ',',
    '0',
    '1',
    '5',
    '7',
    '15',
    '31',
    '60',
    'MON',
    'jan',
    '2026',
    ' ',
  ];
  const cronish = fc
    .array(fc.constantFrom(...tokens), { maxLength: 24 })
    .map((parts) => `cron(${parts.join('')})`);
  const anything = fc.oneof(
    fc.string(),
    cronish,
    fc.string().map((s) => `rate(${s})`),
    fc.string().map((s) => `at(${s})`),
  );

  it('never throws, and answers `"<expr>": problem — fix` or undefined', () => {
    fc.assert(
      fc.property(anything, (text) => {
        const message = checkScheduleExpression(text);
        if (message === undefined) {
          // Valid: it parses, describes and iterates.
          parseScheduleExpression(text);
          describeSchedule(text, 'Europe/Berlin');
          nextFireTimes(text, { timezone: 'Europe/Berlin', from: new Date(Date.UTC(2026, 0, 1)), count: 3 });
          return;
        }
        const parts = message.split(' — ');
        expect(parts).toHaveLength(2);
        expect(parts[0]?.length).toBeGreaterThan(JSON.stringify(text).length + 2);
        expect(parts[1]?.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });
});
