import { once } from 'node:events';
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { formatDuration } from '../../core/duration.js';
import { isFinalStatus, RUN_STATUSES, type RunStatus } from '../../core/lifecycle/states.js';
import { summarizeTrigger } from '../../core/lifecycle/trigger.js';
import { loadJobs } from '../../loader/loadJobs.js';
import { openDevDb } from '../../runtime/local/db.js';
import { devPaths, logFile } from '../../runtime/local/paths.js';
import { SqliteRunStore } from '../../runtime/local/store.js';
import { colorStatus } from '../../runtime/local/terminal.js';
import type { AttemptRecord, RunRecord } from '../../runtime/ports.js';
import { CliError, printJson } from '../output.js';
import { projectPaths, projectRoot } from '../project.js';
import { runJson } from '../runJson.js';

// ---- --stage: dispatch to the AWS runtime, loaded on demand so local use never loads the AWS SDK ----

export interface StageOptions {
  stage?: string;
  region?: string;
  service?: string;
}

export function stageOptions(command: Command): Command {
  return command
    .option('--stage <stage>', 'use the deployed stage on AWS instead of the local engine')
    .option('--region <region>', 'AWS region of the stage (default: from the AWS config)')
    .option('--service <name>', 'service name (default: from serverless.yml)');
}

type AwsFn = (args: Record<string, unknown>) => Promise<unknown>;

export async function awsCli(
  name: 'awsRunRecords' | 'awsRunDetail' | 'awsRunsLogs' | 'awsInvoke' | 'awsRedrive',
): Promise<AwsFn> {
  const path = '../stage.js';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(path)) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new CliError(
        '--stage: AWS run commands are not available in this build of berth — drop --stage to use the local engine',
      );
    }
    throw error;
  }
  const fn = mod[name];
  if (typeof fn !== 'function') {
    throw new CliError(
      `--stage: ${name} is not available in this build of berth — drop --stage to use the local engine`,
    );
  }
  return fn as AwsFn;
}

export function stageArgs(opts: StageOptions, cmd: Command): Record<string, unknown> {
  return { service: opts.service, stage: opts.stage, region: opts.region, root: projectRoot(cmd) };
}

function openStore(cmd: Command): { store: SqliteRunStore; close: () => void } {
  const db = openDevDb(devPaths(projectRoot(cmd)).db, { readonly: true });
  return { store: new SqliteRunStore(db), close: () => db.close() };
}

function durationOf(run: RunRecord): string {
  const end = run.endedAt ? Date.parse(run.endedAt) : Date.now();
  return formatDuration(end - Date.parse(run.createdAt));
}

function printRunTable(runs: RunRecord[]): void {
  if (runs.length === 0) {
    process.stdout.write('no runs\n');
    return;
  }
  const header = `${'RUN'.padEnd(22)} ${'JOB'.padEnd(16)} ${'STATUS'.padEnd(10)} ${'ATT'.padEnd(5)} ${'CREATED'.padEnd(20)} ${'TOOK'.padEnd(7)} TRIGGER`;
  process.stdout.write(`${pc.dim(header)}\n`);
  for (const r of runs) {
    const status = colorStatus(r.status) + ' '.repeat(Math.max(0, 10 - r.status.length));
    process.stdout.write(
      `${r.runId.padEnd(22)} ${r.job.padEnd(16)} ${status} ${`${r.attempt}/${r.maxAttempts}`.padEnd(5)} ${r.createdAt.slice(0, 19).padEnd(20)} ${durationOf(r).padEnd(7)} ${summarizeTrigger(r.trigger)}\n`,
    );
  }
}

function attemptLine(a: AttemptRecord): string {
  const dur = a.durationMs !== null ? formatDuration(a.durationMs) : '';
  const exit = a.exitCode !== null ? ` exit ${a.exitCode}` : '';
  return `  #${a.attempt} ${a.outcome ? colorStatus(a.outcome === 'succeeded' ? 'succeeded' : a.outcome) : colorStatus(a.status)}${exit} ${pc.dim(dur)} ${a.reason ? pc.dim(a.reason) : ''}`;
}

function printRunDetail(run: RunRecord, attempts: AttemptRecord[], stageFlag: string): void {
  process.stdout.write(
    `${pc.bold(run.runId)}  ${run.job}  ${colorStatus(run.status)}  attempt ${run.attempt}/${run.maxAttempts}\n`,
  );
  if (run.replayOf) process.stdout.write(`  replay of ${run.replayOf}\n`);
  process.stdout.write(
    `  trigger  ${summarizeTrigger(run.trigger)}\n  created  ${run.createdAt}${run.endedAt ? `   ended ${run.endedAt}` : ''}\n`,
  );
  if (run.outcome)
    process.stdout.write(
      `  outcome  ${run.outcome}${run.exitCode !== null ? ` (exit ${run.exitCode})` : ''}\n`,
    );
  if (run.decision) process.stdout.write(`  decision ${run.decision}\n`);
  if (run.nextAttemptAt) process.stdout.write(`  next attempt at ${run.nextAttemptAt}\n`);
  for (const a of attempts) process.stdout.write(`${attemptLine(a)}\n`);
  process.stdout.write(pc.dim(`  logs: berth runs logs ${run.runId}${stageFlag}\n`));
}

/**
 * Copies bytes [from, to) of a log to stdout in 64 KiB chunks, waiting for stdout to drain: memory stays
 * flat whatever the log's size.
 */
/** The byte `berth dev` marks stderr lines with in a log file (STDERR_MARK): never part of UTF-8 text. */
const STDERR_BYTE = 0x1e;

async function streamLog(file: string, from: number, to: number): Promise<void> {
  if (to <= from) return;
  for await (const chunk of createReadStream(file, { start: from, end: to - 1, highWaterMark: 64 * 1024 })) {
    const bytes = chunk as Buffer;
    const text = bytes.includes(STDERR_BYTE) ? bytes.filter((b) => b !== STDERR_BYTE) : bytes;
    if (!process.stdout.write(text)) await once(process.stdout, 'drain');
  }
}

async function followLogs(cmd: Command, runId: string, onlyAttempt?: number): Promise<void> {
  const paths = devPaths(projectRoot(cmd));
  const offsets = new Map<number, number>();
  const pump = async (attempt: number): Promise<void> => {
    const file = logFile(paths, runId, attempt);
    if (!existsSync(file)) return;
    const size = statSync(file).size;
    const from = offsets.get(attempt) ?? 0;
    if (size <= from) return;
    if (from === 0 && onlyAttempt === undefined) process.stdout.write(pc.dim(`── attempt ${attempt} ──\n`));
    await streamLog(file, from, size);
    offsets.set(attempt, size);
  };
  for (;;) {
    const { store, close } = openStore(cmd);
    const run = store.getRunSync(runId);
    close();
    if (!run) throw new CliError(`${runId}: no such run — list runs with berth runs list`);
    const attempts = onlyAttempt ? [onlyAttempt] : Array.from({ length: run.attempt }, (_, i) => i + 1);
    for (const a of attempts) await pump(a);
    if (isFinalStatus(run.status)) {
      for (const a of attempts) await pump(a);
      process.stdout.write(pc.dim(`── run ${run.status} ──\n`));
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * `--job` that matched no run: fine for a job of the project that has not run yet, or a removed job that still
 * has runs; otherwise an error naming the project's jobs (a typo must not read as "no runs").
 */
async function assertKnownJob(cmd: Command, job: string): Promise<void> {
  const { root, jobsDir } = projectPaths(cmd);
  let names: string[] = [];
  try {
    names = (await loadJobs({ root, jobsDir })).jobs.map((j) => j.name).sort();
  } catch {
    // No jobs folder: no job is known.
  }
  if (names.includes(job)) return;
  throw new CliError(
    `--job: no job named '${job}' in ${jobsDir}/ and no runs of it — known jobs: ${names.join(', ') || '(none)'} (berth list shows them)`,
  );
}

export function registerRuns(program: Command): void {
  const runs = program
    .command('runs')
    .description('Run history: list, show, logs (local engine; AWS with --stage)');

  stageOptions(
    runs
      .command('list')
      .description('List runs, newest first')
      .option('--job <job>', 'only this job')
      .option('--status <status>', `only this status (${RUN_STATUSES.join(', ')})`)
      .option('-n, --limit <n>', 'at most this many', '50')
      .option('--json', 'print JSON: an array of runs (see README: berth runs --json)'),
  ).action(
    async (
      opts: { job?: string; status?: string; limit: string; json?: boolean } & StageOptions,
      cmd: Command,
    ) => {
      if (opts.status && !(RUN_STATUSES as readonly string[]).includes(opts.status)) {
        throw new CliError(
          `--status: "${opts.status}" is not a run status — use one of ${RUN_STATUSES.join(', ')}`,
        );
      }
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new CliError(`--limit: "${opts.limit}" is not a positive whole number`);
      if (opts.stage) {
        const list = (await (
          await awsCli('awsRunRecords')
        )({
          ...stageArgs(opts, cmd),
          job: opts.job,
          status: opts.status,
          limit,
        })) as RunRecord[];
        if (opts.job && list.length === 0) await assertKnownJob(cmd, opts.job);
        if (opts.json) printJson(list.map(runJson));
        else printRunTable(list);
        return;
      }
      const { store, close } = openStore(cmd);
      try {
        const list = store.listRunsSync({
          ...(opts.job ? { job: opts.job } : {}),
          ...(opts.status ? { status: opts.status as RunStatus } : {}),
          limit,
        });
        if (opts.job && list.length === 0) await assertKnownJob(cmd, opts.job);
        if (opts.json) printJson(list.map(runJson));
        else printRunTable(list);
      } finally {
        close();
      }
    },
  );

  stageOptions(
    runs
      .command('show <runId>')
      .description('Show one run and its attempts')
      .option('--json', 'print JSON: the run plus attemptDetails[]'),
  ).action(async (runId: string, opts: { json?: boolean } & StageOptions, cmd: Command) => {
    if (opts.stage) {
      const { run, attempts } = (await (
        await awsCli('awsRunDetail')
      )({ ...stageArgs(opts, cmd), runId })) as {
        run: RunRecord;
        attempts: AttemptRecord[];
      };
      if (opts.json) return printJson({ ...runJson(run), attemptDetails: attempts });
      return printRunDetail(run, attempts, ` --stage ${opts.stage}`);
    }
    const { store, close } = openStore(cmd);
    try {
      const run = store.getRunSync(runId);
      if (!run) throw new CliError(`${runId}: no such run — list runs with berth runs list`);
      const attempts = store.listAttemptsSync(runId);
      const paths = devPaths(projectRoot(cmd));
      if (opts.json) {
        return printJson({
          ...runJson(run),
          attemptDetails: attempts.map((a) => ({ ...a, logPath: logFile(paths, runId, a.attempt) })),
        });
      }
      printRunDetail(run, attempts, '');
    } finally {
      close();
    }
  });

  stageOptions(
    runs
      .command('logs <runId>')
      .description("Print a run's logs (every attempt), or follow them until the run ends")
      .option('-f, --follow', 'keep printing new output until the run ends')
      .option('--attempt <n>', 'only this attempt'),
  ).action(
    async (runId: string, opts: { follow?: boolean; attempt?: string } & StageOptions, cmd: Command) => {
      const attempt = opts.attempt !== undefined ? Number(opts.attempt) : undefined;
      if (attempt !== undefined && (!Number.isInteger(attempt) || attempt < 1)) {
        throw new CliError(`--attempt: "${opts.attempt}" is not an attempt number (1, 2, …)`);
      }
      if (opts.stage) {
        // Ctrl-C ends a follow cleanly (a last line says where the run is) instead of killing mid-write.
        const abort = new AbortController();
        const onSigint = () => abort.abort();
        if (opts.follow) process.once('SIGINT', onSigint);
        try {
          await (await awsCli('awsRunsLogs'))({
            ...stageArgs(opts, cmd),
            runId,
            follow: opts.follow === true,
            ...(attempt !== undefined ? { attempt } : {}),
            signal: abort.signal,
          });
        } finally {
          process.off('SIGINT', onSigint);
        }
        return;
      }
      if (opts.follow) return followLogs(cmd, runId, attempt);
      const { store, close } = openStore(cmd);
      let run: RunRecord | undefined;
      try {
        run = store.getRunSync(runId);
      } finally {
        close();
      }
      if (!run) throw new CliError(`${runId}: no such run — list runs with berth runs list`);
      const paths = devPaths(projectRoot(cmd));
      const attempts = attempt ? [attempt] : Array.from({ length: run.attempt }, (_, i) => i + 1);
      for (const a of attempts) {
        const file = logFile(paths, runId, a);
        if (!existsSync(file)) continue;
        if (!attempt) process.stdout.write(pc.dim(`── attempt ${a} ──\n`));
        await streamLog(file, 0, statSync(file).size);
      }
    },
  );
}
