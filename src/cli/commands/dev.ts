import type { Command } from 'commander';
// The engine (SQLite, the dashboard, drivers) is imported when `dev` runs, so other commands never load it.
import type { EngineOptions } from '../../runtime/local/engine.js';
import { defaultTerminalMode } from '../../runtime/local/terminal.js';
import { CliError } from '../output.js';
import { projectPaths } from '../project.js';

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description(
      'Run the jobs on this machine: bucket folders, schedules, queues, child processes (or docker)',
    )
    .option('-p, --port <n>', 'HTTP port on 127.0.0.1 (dashboard, SQS endpoint, events); 0 picks a free one')
    .option(
      '--driver <driver>',
      'auto | process | docker (auto: docker for jobs without task.local when docker answers)',
    )
    .option('--plain', 'plain lines instead of the live view (also when piped or CI is set)')
    .action(async (opts: { port?: string; driver?: string; plain?: boolean }, cmd: Command) => {
      const { root, jobsDir } = projectPaths(cmd);
      const options: EngineOptions = {
        root,
        jobsDir,
        terminal: opts.plain ? 'plain' : defaultTerminalMode(),
      };
      if (opts.port !== undefined) {
        const port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new CliError(
            `--port: "${opts.port}" is not a port — write --port 4555 (or 0 for any free port)`,
          );
        }
        options.port = port;
      }
      if (opts.driver !== undefined) {
        if (!['auto', 'process', 'docker'].includes(opts.driver)) {
          throw new CliError(`--driver: "${opts.driver}" is unknown — use auto, process or docker`);
        }
        options.driver = opts.driver as 'auto' | 'process' | 'docker';
      }
      const { LocalEngine } = await import('../../runtime/local/engine.js');
      const engine = await LocalEngine.start(options);
      for (const line of engine.banner()) process.stdout.write(`${line}\n`);
      const reason = await new Promise<string | undefined>((resolve) => {
        let stopping = false;
        const stop = () => {
          if (stopping) return;
          stopping = true;
          process.stdout.write('stopping berth dev…\n');
          void engine.stop().then(() => resolve(undefined), resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        // The engine stops by itself when its .berth folder is deleted under it.
        void engine.closed.then(resolve);
      });
      if (reason) throw new CliError(reason);
    });
}
