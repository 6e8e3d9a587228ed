import type { Command } from 'commander';
import { noFireReason, windowedFireTimes } from '../../core/schedule/index.js';
import { isoInZone } from '../describe.js';
import { CliError, printJson } from '../output.js';
import { findJob, loadProjectJobs } from '../project.js';

export function registerSchedule(program: Command): void {
  program
    .command('schedule <job>')
    .description(
      "Print a job's next fire times inside each schedule's startDate/endDate (ISO-8601 with the time zone's offset)",
    )
    .option('-n, --count <n>', 'how many fire times', '5')
    .option('--from <iso>', 'start after this instant (ISO-8601)', undefined)
    .option('--json', 'print JSON: [{ scheduleId, expression, timezone, fireAt }]')
    .action(async (name: string, opts: { count: string; from?: string; json?: boolean }, cmd: Command) => {
      const count = Number(opts.count);
      if (!Number.isInteger(count) || count < 1 || count > 1000) {
        throw new CliError(`--count: "${opts.count}" is not a whole number from 1 to 1000 — write --count 3`);
      }
      const from = opts.from ? new Date(opts.from) : new Date();
      if (Number.isNaN(from.getTime())) {
        throw new CliError(
          `--from: "${opts.from}" is not an ISO-8601 instant — write --from 2026-12-01T00:00:00Z`,
        );
      }
      const job = findJob(await loadProjectJobs(cmd), name);
      const schedules = job.triggers.filter((t) => t.kind === 'schedule');
      if (schedules.length === 0) {
        throw new CliError(
          `${job.file}: trigger.schedule: job '${name}' has no schedule — add trigger.schedule or use berth invoke`,
        );
      }
      const rows = schedules
        .flatMap((t) =>
          windowedFireTimes(t, from, count).map((d) => ({
            scheduleId: t.id,
            expression: t.expression,
            timezone: t.timezone,
            at: d,
          })),
        )
        .sort((a, b) => a.at.getTime() - b.at.getTime())
        .slice(0, count)
        .map((r) => ({
          scheduleId: r.scheduleId,
          expression: r.expression,
          timezone: r.timezone,
          fireAt: isoInZone(r.at, r.timezone),
        }));
      if (rows.length === 0) {
        // Never print nothing with exit 0: say why no time comes, naming it.
        const reasons = schedules.map((t, i) => {
          const field = schedules.length > 1 ? `trigger.schedule[${i}]` : 'trigger.schedule';
          return `${job.file}: ${field}: no fire time after ${from.toISOString()}: ${noFireReason(t, from) ?? 'none'}`;
        });
        throw new CliError(
          `${reasons.join('\n')} — move the schedule (or its startDate/endDate) into the future, or pass --from an earlier time`,
        );
      }
      if (opts.json) return printJson(rows);
      for (const r of rows) process.stdout.write(`${r.fireAt}  ${r.expression} (${r.timezone})\n`);
    });
}
