import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { replayRun } from '../../runtime/lifecycle.js';
import { openDirect } from '../../runtime/local/direct.js';
import { devPaths } from '../../runtime/local/paths.js';
import { jobQueueName } from '../../runtime/local/queue.js';
import { CliError, printJson } from '../output.js';
import { loadProjectJobs, projectPaths } from '../project.js';
import { awsCli, type StageOptions, stageArgs, stageOptions } from './runs.js';

/** The same locally and with `--stage` (where a re-launched run is `queued`: the launcher starts it). */
interface RedriveOutput {
  runs: { from: string; status: string; runId?: string }[];
  messages: number;
}

export function registerRedrive(program: Command): void {
  stageOptions(
    program
      .command('redrive <jobOrRunId>')
      .description(
        "Re-launch dead-lettered runs: one run by id, or every dead-lettered run of a job (and the job queue's dead-letter messages); with --stage, `launch-queue` moves the launch queue's dead-letter messages back",
      )
      .option('--json', 'print JSON: { runs: [{ from, status, runId }], messages: n }'),
  ).action(async (target: string, opts: { json?: boolean } & StageOptions, cmd: Command) => {
    const jobs = await loadProjectJobs(cmd);
    const isJob = jobs.some((j) => j.name === target);
    const moved = (n: number) => `${n} dead-letter message${n === 1 ? '' : 's'} moved back`;
    const print = (result: RedriveOutput) => {
      if (opts.json) return printJson(result);
      for (const o of result.runs)
        process.stdout.write(`${o.from} → ${o.status}${o.runId ? ` ${o.runId}` : ''}\n`);
      if (isJob) process.stdout.write(`${moved(result.messages)} to ${target}'s queue\n`);
      else if (target === 'launch-queue' && opts.stage)
        process.stdout.write(`${moved(result.messages)} to the launch queue\n`);
      if (result.runs.length === 0 && result.messages === 0) process.stdout.write('nothing to redrive\n');
    };
    if (opts.stage) {
      const aws = await awsCli('awsRedrive');
      return print((await aws({ ...stageArgs(opts, cmd), target, jobs })) as RedriveOutput);
    }
    const handle = openDirect(devPaths(projectPaths(cmd).root));
    try {
      const candidates = isJob
        ? handle.store.listRunsSync({ job: target, limit: 10_000 }).filter((r) => r.deadLettered)
        : [handle.store.getRunSync(target)].filter((r) => r !== undefined);
      if (!isJob && candidates.length === 0) {
        throw new CliError(`${target}: neither a job nor a run id — list runs with berth runs list`);
      }
      const out: { from: string; status: string; runId?: string }[] = [];
      for (const run of candidates) {
        if (!run.deadLettered)
          throw new CliError(
            `${run.runId}: is ${run.status}, not dead-lettered — only runs that failed for good can be redriven`,
          );
        const by = handle.store.replayedBy(run.runId);
        if (by) {
          out.push({ from: run.runId, status: 'already-redriven', runId: by });
          continue;
        }
        const job = jobs.find((j) => j.name === run.job);
        if (!job) throw new CliError(`${run.runId}: its job ${run.job} no longer exists`);
        const result = await handle.tx.run(() => replayRun(handle.deps, job, run, randomUUID()));
        out.push({
          from: run.runId,
          status: result.status,
          ...(result.status !== 'skipped' ? { runId: result.runId } : {}),
        });
      }
      const messages = isJob ? handle.queues.redriveDeadLetters(jobQueueName(target)) : 0;
      print({ runs: out, messages });
    } finally {
      handle.close();
    }
  });
}
