import type { Command } from 'commander';
import pc from 'picocolors';
import { describeTrigger, isoInZone, nextFire } from '../describe.js';
import { printJson } from '../output.js';
import { loadProjectJobs } from '../project.js';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('List jobs with their triggers and next fire time')
    .option(
      '--json',
      'print JSON: [{ name, file, description, triggers: [{ kind, id, description }], nextFireAt }]',
    )
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const jobs = await loadProjectJobs(cmd);
      const now = new Date();
      const rows = jobs.map((job) => {
        const next = nextFire(job, now);
        const tz = job.triggers.find((t) => t.kind === 'schedule')?.timezone ?? 'UTC';
        return {
          name: job.name,
          file: job.file,
          description: job.description ?? null,
          triggers: job.triggers.map((t) => ({ kind: t.kind, id: t.id, description: describeTrigger(t) })),
          nextFireAt: next ? isoInZone(next, tz) : null,
        };
      });
      if (opts.json) return printJson(rows);
      for (const row of rows) {
        process.stdout.write(`${pc.bold(row.name)}  ${pc.dim(row.file)}\n`);
        if (row.description) process.stdout.write(`  ${row.description}\n`);
        if (row.triggers.length === 0) process.stdout.write(`  ${pc.cyan('manual')} invoke only\n`);
        for (const t of row.triggers) process.stdout.write(`  ${pc.cyan(t.kind)} ${t.description}\n`);
        if (row.nextFireAt) process.stdout.write(`  next: ${row.nextFireAt}\n`);
        else if (row.triggers.some((t) => t.kind === 'schedule'))
          process.stdout.write(`  next: ${pc.yellow('none')} (no fire time left in the schedule's window)\n`);
      }
    });
}
