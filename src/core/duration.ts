/**
 * Durations are written as a number and a unit: `'500ms'`, `'30s'`, `'15m'`, `'2h'`, `'1d'`.
 * This is the one place they are parsed.
 */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';
export type Duration = `${number}${DurationUnit}`;

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Returns milliseconds, or `undefined` when the text is not a duration. */
export function tryParseDuration(text: string): number | undefined {
  const match = DURATION_RE.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = match[2] as DurationUnit;
  const ms = Math.round(value * UNIT_MS[unit]);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Parses a duration such as `'15m'` into milliseconds; throws a `RangeError` naming the fix. */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) {
    throw new RangeError(
      `"${text}" is not a duration — write a number and a unit: '500ms', '30s', '15m', '2h' or '1d'`,
    );
  }
  return ms;
}

/** Formats milliseconds compactly for people: 90000 → `1m30s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalSeconds = Math.round(ms / 1000);
  const d = Math.floor(totalSeconds / 86400);
  const h = Math.floor((totalSeconds % 86400) / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  const parts: string[] = [];
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (s || parts.length === 0) parts.push(`${s}s`);
  return parts.join('');
}
