import type { Command } from 'commander';
import type { TriggerPayload } from '../../core/lifecycle/trigger.js';
import type { Json } from '../../core/model/common.js';
import { acceptTrigger } from '../../runtime/lifecycle.js';
import { invokeDirect, openDirect } from '../../runtime/local/direct.js';
import { ManualS3Error, manualS3Trigger } from '../../runtime/local/manualS3.js';
import { devPaths } from '../../runtime/local/paths.js';
import { CliError, printJson } from '../output.js';
import { findJob, loadProjectJobs, projectRoot } from '../project.js';
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
    .option(
      '--key <key>',
      'S3-triggered job: run it for this object of its bucket folder (an S3-shaped trigger)',
    )
    .option('--bucket <bucket>', "with --key: which of the job's buckets (default: its only one)")
    .option('--json', 'print the result as JSON: { status, runId }');
  stageOptions(command).action(
    async (
      name: string,
      opts: { payload?: string; key?: string; bucket?: string; json?: boolean } & StageOptions,
      cmd: Command,
    ) => {
      if (opts.bucket !== undefined && opts.key === undefined) {
        throw new CliError('--bucket: give the object too — --bucket <bucket> --key <key>');
      }
      if (opts.key !== undefined && opts.payload !== undefined) {
        throw new CliError(
          '--payload: an S3-triggered run gets the object as its trigger — use --key (and --bucket), or --payload, not both',
        );
      }
      if (opts.key !== undefined && opts.stage) {
        throw new CliError(
          '--key: invoking with an object works locally only — on AWS, upload the object to the bucket',
        );
      }
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
      const paths = devPaths(projectRoot(cmd));
      let trigger: TriggerPayload | undefined;
      if (opts.key !== undefined) {
        try {
          trigger = await manualS3Trigger(paths, job, { key: opts.key, bucket: opts.bucket });
        } catch (error) {
          if (error instanceof ManualS3Error) {
            // "bucket: …" / "key: …" name the flag; the rest name the job file.
            const m = error.message;
            throw new CliError(/^(bucket|key): /.test(m) ? `--${m}` : m);
          }
          throw error;
        }
      }
      const handle = openDirect(paths);
      try {
        const s3 = trigger;
        print(
          s3
            ? await handle.tx.run(() => acceptTrigger(handle.deps, job, s3))
            : await invokeDirect(handle, job, payload),
        );
      } finally {
        handle.close();
      }
    },
  );
}
