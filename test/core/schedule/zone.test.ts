import { describe, expect, it } from 'vitest';
import { isoInZone } from '../../../src/core/schedule/index.js';

describe('isoInZone', () => {
  it.each([
    ['2026-11-26T17:00:00.789Z', 'Asia/Seoul', '2026-11-27T02:00:00+09:00'],
    ['2027-07-01T07:00:00Z', 'Europe/Berlin', '2027-07-01T09:00:00+02:00'],
    ['2027-01-01T08:00:00Z', 'Europe/Berlin', '2027-01-01T09:00:00+01:00'],
    ['2027-01-01T08:00:00Z', 'America/New_York', '2027-01-01T03:00:00-05:00'],
    ['2027-01-01T08:00:00Z', 'Asia/Kolkata', '2027-01-01T13:30:00+05:30'],
    ['2027-01-01T08:00:00Z', 'Pacific/Chatham', '2027-01-01T21:45:00+13:45'],
    ['2027-01-01T00:00:00Z', 'UTC', '2027-01-01T00:00:00+00:00'],
    // The repeated hour of a fall-back day: same wall time, two offsets.
    ['2026-10-25T00:30:00Z', 'Europe/Berlin', '2026-10-25T02:30:00+02:00'],
    ['2026-10-25T01:30:00Z', 'Europe/Berlin', '2026-10-25T02:30:00+01:00'],
  ])('%s in %s is %s', (instant, zone, expected) => {
    expect(isoInZone(new Date(instant), zone)).toBe(expected);
  });
});
