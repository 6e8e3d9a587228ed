import { Command } from 'commander';
import { registerDev } from './commands/dev.js';
import { registerImage } from './commands/image.js';
import { registerInvoke } from './commands/invoke.js';
import { registerList } from './commands/list.js';
import { registerPut } from './commands/put.js';
import { registerRedrive } from './commands/redrive.js';
import { registerRuns } from './commands/runs.js';
import { registerSchedule } from './commands/schedule.js';
import { registerSend } from './commands/send.js';
import { registerSynth } from './commands/synth.js';
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
registerDev(program);
registerImage(program);
registerInvoke(program);
registerList(program);
registerPut(program);
registerRedrive(program);
registerRuns(program);
registerSchedule(program);
registerSend(program);
registerSynth(program);
registerValidate(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(error);
}
