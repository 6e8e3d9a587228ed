import type { Command } from 'commander';
import { CliError } from '../output.js';
import { loadProjectJobs, projectRoot } from '../project.js';

const DESCRIPTION =
  'Serve the runs dashboard of a deployed stage on 127.0.0.1: runs, logs, queues and actions from AWS';

export function registerConsole(program: Command): void {
  program
    .command('console')
    .description(DESCRIPTION)
    .requiredOption('--stage <stage>', 'the deployed stage to show')
    .option('--region <region>', 'AWS region of the stage (default: from the AWS config)')
    .option('--service <name>', 'service name (default: from serverless.yml)')
    .option('-p, --port <n>', 'HTTP port on 127.0.0.1; 0 picks a free one', '0')
    .action(
      async (opts: { stage: string; region?: string; service?: string; port: string }, cmd: Command) => {
        const port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new CliError(
            `--port: "${opts.port}" is not a port — write --port 4556 (or 0 for any free port)`,
          );
        }
        const jobs = await loadProjectJobs(cmd);
        // The AWS SDK is loaded only when the console runs.
        const { startConsole } = await import('../../console/server.js');
        const running = await startConsole({
          stage: opts.stage,
          port,
          jobs,
          root: projectRoot(cmd),
          ...(opts.region ? { region: opts.region } : {}),
          ...(opts.service ? { service: opts.service } : {}),
        });
        process.stdout.write(
          `berth console: stage ${opts.stage}, ${jobs.length} job${jobs.length === 1 ? '' : 's'}\n` +
            `  dashboard  ${running.url}\n` +
            '  live updates poll the runs table every 5 s while a page is open; Ctrl-C stops\n',
        );
        await new Promise<void>((resolve) => {
          let stopping = false;
          const stop = () => {
            if (stopping) return;
            stopping = true;
            process.stdout.write('stopping berth console…\n');
            void running.close().then(resolve, resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );
}
