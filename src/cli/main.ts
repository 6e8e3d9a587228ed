import { Command } from 'commander';
import { registerList } from './commands/list.js';
import { registerSchedule } from './commands/schedule.js';
import { registerValidate } from './commands/validate.js';
import { reportError } from './output.js';

const program = new Command();
program
  .name('berth')
  .description('Event-driven container jobs on AWS Fargate, declared in TypeScript')
  .option('-C, --cwd <dir>', 'project root (default: the current directory)')
  .option('--jobs-dir <dir>', 'folder of job files, relative to the root', 'jobs')
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(str) });

// Each command registers itself; keep this list sorted.
registerList(program);
registerSchedule(program);
registerValidate(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(error);
}
