/**
 * Crash points for the crash-safety tests: `BERTH_DEV_CRASH_AT=after-accept` makes the engine SIGKILL itself
 * the first time it reaches that point, exactly as `kill -9` would. Inert when the variable is unset.
 */
export const CRASH_POINTS = [
  'after-receive',
  'after-accept',
  'before-spawn',
  'after-spawn',
  'after-launch',
  'after-exit',
  'after-stop',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

const armed = new Set((process.env.BERTH_DEV_CRASH_AT ?? '').split(',').filter(Boolean));

export function crashPoint(point: CrashPoint): void {
  if (armed.size > 0 && armed.has(point)) process.kill(process.pid, 'SIGKILL');
}
