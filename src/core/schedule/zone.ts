/** Wall-clock arithmetic in IANA time zones, on top of Intl (no dependency, no process time zone). */

/** A calendar date and clock time, no zone attached. `month` is 1-12. */
export interface WallDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** A wall-clock time in some time zone. `weekday` 0 = Sunday … 6 = Saturday. */
export interface WallTime extends WallDateTime {
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at instant `ms` (milliseconds are dropped). */
export function wallTimeAt(ms: number, timeZone: string): WallTime {
  const parts = formatter(timeZone).formatToParts(new Date(ms));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const year = get('year');
  const month = get('month');
  const day = get('day');
  return {
    year,
    month,
    day,
    hour: get('hour') % 24,
    minute: get('minute'),
    second: get('second'),
    weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay(),
  };
}

/** A wall-clock time as if it were UTC: a number that orders wall times. */
export function wallMs(w: WallDateTime): number {
  const d = new Date(Date.UTC(2000, w.month - 1, w.day, w.hour, w.minute, w.second));
  d.setUTCFullYear(w.year);
  return d.getTime();
}

/** The zone's UTC offset at instant `ms`, in milliseconds (east positive). */
export function offsetAt(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallMs(wallTimeAt(whole, timeZone)) - whole;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** ISO-8601 in the zone's wall time with its offset, e.g. `2026-11-27T02:00:00+09:00` (milliseconds dropped). */
export function isoInZone(date: Date, timeZone: string): string {
  const ms = date.getTime();
  const w = wallTimeAt(ms, timeZone);
  const offsetMin = Math.round(offsetAt(ms, timeZone) / 60_000);
  const abs = Math.abs(offsetMin);
  const offset = `${offsetMin >= 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${offset}`;
}

const DAY_MS = 86_400_000;

/**
 * Every instant at which the zone's wall clock shows `wall` (a `wallMs` value), earliest first:
 * one instant normally, two in a fall-back overlap, none in a spring-forward gap.
 */
export function instantsOfWallTime(wall: number, timeZone: string): number[] {
  // The instant lies within ±14 h of the wall time read as UTC; the offsets a day either side cover a
  // transition in between.
  const offsets = new Set([
    offsetAt(wall - DAY_MS, timeZone),
    offsetAt(wall, timeZone),
    offsetAt(wall + DAY_MS, timeZone),
  ]);
  const found = new Set<number>();
  for (const offset of offsets) {
    const t = wall - offset;
    if (offsetAt(t, timeZone) === offset) found.add(t);
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * The instant of a wall-clock time, resolved the way croner (and Temporal's 'compatible') does: the
 * earlier instant in a fall-back overlap; in a spring-forward gap, the time shifted forward by the
 * length of the gap (02:30 in a 02:00→03:00 gap becomes 03:30).
 */
export function resolveWallTime(wall: number, timeZone: string): number {
  const instants = instantsOfWallTime(wall, timeZone);
  if (instants[0] !== undefined) return instants[0];
  // In a gap: read the wall time with the offset in force before the gap (the smaller one).
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  return wall - Math.min(before, after);
}

/**
 * The instant of an ISO-8601 date or date-time as a schedule reads its StartDate/EndDate: an explicit `Z`
 * or offset is taken as written; otherwise the text is a wall-clock time in `timeZone`, resolved like
 * `resolveWallTime` (gap shifts forward, overlap takes the earlier instant). A bare date is its midnight.
 */
export function instantOfZonedIso(text: string, timeZone: string): number {
  if (/(Z|[+-]\d\d:?\d\d)$/.test(text)) return Date.parse(text);
  const wall = Date.parse(`${text}Z`);
  if (Number.isNaN(wall))
    throw new RangeError(`"${text}" is not an ISO-8601 date — write 2026-01-31T09:00:00`);
  return resolveWallTime(wall, timeZone);
}
