// Placeholder interface; the implementation lands with the schedule maths (issue 2, item 4).
export interface ScheduleCheck {
  ok: boolean;
  message?: string;
}
/** `undefined` when the expression is valid, otherwise `problem — fix`. */
export function checkScheduleExpression(_expression: string): string | undefined {
  return undefined;
}
/** `undefined` when the IANA time zone is known, otherwise `problem — fix`. */
export function checkTimeZone(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return undefined;
  } catch {
    return `"${timezone}" is not an IANA time zone — use a name such as 'UTC', 'Europe/Berlin' or 'Asia/Seoul'`;
  }
}
export function nextFireTimes(
  _expression: string,
  _options: { timezone: string; from: Date; count: number },
): Date[] {
  throw new Error('nextFireTimes: not implemented yet');
}
