import type { Command } from 'commander';
import type { Json } from '../../core/model/common.js';
import { invokeDirect, openDirect } from '../../runtime/local/direct.js';
import { devPaths } from '../../runtime/local/paths.js';
import { CliError, printJson } from '../output.js';
import { findJob, loadProjectJobs, projectPaths } from '../project.js';
import { awsCli, type StageOptions, stageArgs, stageOptions } from './runs.js';

/** `{ status, runId }` (or `{ status: 'skipped', reason }`), locally and with `--stage` (`status: 'queued'`). */
type InvokeResult =
  | { status: 'accepted' | 'duplicate' | 'queued'; runId: string }
  | { status: 'skipped'; reason: string };

export function registerInvoke(program: Command): void {
  const command = program
    .command('invoke <job>')
    .description('Start a run of a job by hand (locally; on AWS with --stage)')
    .option('--payload <json>', 'JSON payload passed to the run as BERTH_TRIGGER.payload')
    .option('--json', 'print the result as JSON: { status, runId }');
  stageOptions(command).action(
    async (name: string, opts: { payload?: string; json?: boolean } & StageOptions, cmd: Command) => {
      let payload: Json | undefined;
      if (opts.payload !== undefined) {
        try {
          payload = JSON.parse(opts.payload) as Json;
        } catch (error) {
          throw new CliError(
            `--payload: not valid JSON (${(error as Error).message}) — write --payload '{"date":"2026-01-01"}'`,
          );
        }
      }
      const job = findJob(await loadProjectJobs(cmd), name);
      const print = (result: InvokeResult) => {
        if (opts.json) return printJson(result);
        if (result.status === 'skipped') process.stdout.write(`skipped: ${result.reason}\n`);
        else process.stdout.write(`${result.status} run ${result.runId} of ${name}\n`);
      };
      if (opts.stage) {
        // On AWS the launcher accepts the run when it takes the message: status is `queued`, runId is final.
        const aws = await awsCli('awsInvoke');
        return print((await aws({ ...stageArgs(opts, cmd), job: name, payload })) as InvokeResult);
      }
      const handle = openDirect(devPaths(projectPaths(cmd).root));
      try {
        print(await invokeDirect(handle, job, payload));
      } finally {
        handle.close();
      }
    },
  );
}
