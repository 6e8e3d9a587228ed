import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, tryParseDuration } from '../../src/core/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1.5h', 5_400_000],
    ['0s', 0],
    [' 10s ', 10_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '10', '10 minutes', '1h30m', '-5s', '5S', '5sec', 'm', '1e3s', '.5s'])(
    'rejects %j',
    (text) => {
      expect(tryParseDuration(text)).toBeUndefined();
      expect(() => parseDuration(text)).toThrow(
        `"${text}" is not a duration — write a number and a unit: '500ms', '30s', '15m', '2h' or '1d'`,
      );
    },
  );

  it('round-trips whole numbers of every unit (property)', () => {
    const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
    fc.assert(
      fc.property(
        fc.nat({ max: 100_000 }),
        fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])),
        (n, u) => {
          expect(parseDuration(`${n}${u}`)).toBe(n * units[u]);
        },
      ),
    );
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [999, '999ms'],
    [1000, '1s'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [90_061_000, '1d1h1m1s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
