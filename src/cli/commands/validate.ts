import type { Command } from 'commander';
import pc from 'picocolors';
import { loadProjectJobs } from '../project.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('Load and validate every job file; print every problem found (exit 1 if any)')
    .action(async (_opts, cmd: Command) => {
      const jobs = await loadProjectJobs(cmd);
      process.stdout.write(
        `${pc.green('✔')} ${jobs.length} job${jobs.length === 1 ? '' : 's'} valid: ${jobs.map((j) => j.name).join(', ')}\n`,
      );
    });
}
