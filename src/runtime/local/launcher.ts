/**
 * The local `TaskLauncher`: runs an attempt as a child process (the job's `task.local.command`, else
 * `task.command`) or as `docker run`. Before spawning it records a `spawning` row, after it the pid and a
 * start marker, so an engine that restarts after `kill -9` recognises the children of its dead predecessor.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDuration } from '../../core/duration.js';
import { BERTH_STOP_REASONS } from '../../core/lifecycle/classify.js';
import type { Job } from '../../core/model/job.js';
import type { LaunchRequest, LaunchResult, TaskLauncher } from '../ports.js';
import type { Db } from './db.js';
import { dockerRunArgv } from './docker.js';
import { crashPoint } from './faults.js';
import { attemptLogFile, type DevPaths } from './paths.js';

export type Driver = 'process' | 'docker';

export interface ExitInfo {
  runId: string;
  attempt: number;
  pid: number;
  exitCode: number | null;
  signal: string | null;
  stopReason: string | null;
  startedAt: string;
  stoppedAt: string;
}

export interface ProcessLauncherOptions {
  db: Db;
  paths: DevPaths;
  /** Which driver runs a job. */
  driverFor: (job: Job) => Driver;
  /** Commits the open transaction, runs `fn`, and opens a new one: the intent is durable before the spawn. */
  outsideTransaction: <T>(fn: () => T) => T;
  onExit: (info: ExitInfo) => void;
  /** Extra environment from the dev config, for every job. */
  env?: Record<string, string>;
  /** Time between SIGTERM and SIGKILL. @default 5000 */
  stopGraceMs?: number;
  now?: () => Date;
}

interface Live {
  child: ChildProcess;
  pid: number;
  stopReason: string | null;
  timers: NodeJS.Timeout[];
}

/** Linux: the process start time in clock ticks (field 22 of /proc/<pid>/stat); null elsewhere. */
export function startMarker(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether `pid` is alive and (when a marker was recorded) still the same process. */
export function isSameProcessAlive(pid: number, marker: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (marker === null) return true;
  return startMarker(pid) === marker;
}

/** Linux: pids whose environment holds this run and attempt (a child spawned just before a crash). */
export function findProcessesOfAttempt(runId: string, attempt: number): number[] {
  if (!existsSync('/proc/self/environ')) return [];
  const want = [`BERTH_RUN_ID=${runId}`, `BERTH_ATTEMPT=${attempt}`];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (want.every((w) => env.includes(w))) found.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

/** Kills a process group (children are spawned detached, as group leaders), falling back to the pid. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * A `task.build.entry` job runs straight from source, no image: node on the entry with `task.command` as its
 * arguments, as in the built image. tsx (resolved from berth's own dependencies) loads it, so a `.ts` entry and
 * TypeScript it imports (berth/task, berth/worker from a source checkout) run as they are.
 */
export function entryCommand(entry: string, args: readonly string[] = []): string[] {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [process.execPath, '--import', tsx, entry, ...args];
}

export function commandFor(job: Job): {
  argv: string[];
  cwd: string | undefined;
  env: Record<string, string>;
} {
  const local = job.task.local;
  if (local) return { argv: local.command, cwd: local.cwd, env: local.env ?? {} };
  const entry = job.task.build?.entry;
  if (entry !== undefined) return { argv: entryCommand(entry, job.task.command), cwd: undefined, env: {} };
  const argv = [...(job.task.entryPoint ?? []), ...(job.task.command ?? [])];
  return { argv, cwd: undefined, env: {} };
}

export class ProcessLauncher implements TaskLauncher {
  private readonly live = new Map<string, Live>();
  private readonly now: () => Date;

  constructor(private readonly options: ProcessLauncherOptions) {
    this.now = options.now ?? (() => new Date());
  }

  private logsDirMade = false;

  /** Opens an attempt's log for appending; makes the logs folder again if someone removed it meanwhile. */
  private openLog(file: string): number {
    try {
      return openSync(file, 'a');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      mkdirSync(this.options.paths.logs, { recursive: true });
      return openSync(file, 'a');
    }
  }

  get running(): number {
    return this.live.size;
  }

  async launch(request: LaunchRequest): Promise<LaunchResult> {
    const { job, run, attempt } = request;
    const key = `${run.runId}#${attempt}`;
    const db = this.options.db;
    const existing = db
      .prepare('SELECT pid, state FROM processes WHERE run_id = ? AND attempt = ?')
      .get(run.runId, attempt) as { pid: number | null; state: string } | undefined;
    if (existing?.pid) {
      // A redelivered launch of an attempt that already has its process: the same task, not a second one.
      return { ok: true, taskArn: `local:${existing.pid}`, capacity: 'local' };
    }
    const driver = this.options.driverFor(job);
    const command = commandFor(job);
    let file: string;
    let args: string[];
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...job.task.environment,
      ...command.env,
      ...this.options.env,
      ...request.environment,
      BERTH_ENVIRONMENT: 'local',
    };
    if (driver === 'docker') {
      file = 'docker';
      args = dockerRunArgv({
        job,
        runId: run.runId,
        attempt,
        environment: { ...job.task.environment, ...this.options.env, ...request.environment },
        volumesDir: this.options.paths.volumes,
      });
    } else {
      const [first, ...rest] = command.argv;
      if (!first) {
        return {
          ok: false,
          kind: 'failed',
          reason: `${job.file}: task.local.command: job '${job.name}' has no command to run locally — add task.local.command (or task.command)`,
        };
      }
      file = first;
      args = rest;
    }
    const cwd = resolve(this.options.paths.root, command.cwd ?? '.');
    const log = attemptLogFile(this.options.paths, run.runId, attempt);
    const timeoutMs = parseDuration(job.timeout);

    return this.options.outsideTransaction(() => {
      if (!this.logsDirMade) {
        mkdirSync(this.options.paths.logs, { recursive: true });
        this.logsDirMade = true;
      }
      db.prepare(
        `INSERT OR IGNORE INTO processes (run_id, attempt, state, driver, engine_pid, log_path) VALUES (?, ?, 'spawning', ?, ?, ?)`,
      ).run(run.runId, attempt, driver, process.pid, log);
      crashPoint('before-spawn');
      const fd = this.openLog(log);
      writeSync(
        fd,
        `[berth] ${job.name} run ${run.runId} attempt ${attempt}: ${[file, ...args].join(' ')}\n`,
      );
      let child: ChildProcess;
      try {
        child = spawn(file, args, { cwd, env, stdio: ['ignore', fd, fd], detached: true });
      } finally {
        closeSync(fd);
      }
      const pid = child.pid;
      if (pid === undefined) {
        const reason = `${file}: command not found (spawn ENOENT in ${cwd}) — check task.local.command of ${job.file}`;
        db.prepare(
          `UPDATE processes SET state = 'failed', stop_reason = ?, exited_at = ? WHERE run_id = ? AND attempt = ?`,
        ).run(reason, this.now().toISOString(), run.runId, attempt);
        // The 'error' event follows; swallow it, the failure is reported through the result.
        child.once('error', () => {});
        return { ok: false, kind: 'failed', reason } as LaunchResult;
      }
      crashPoint('after-spawn');
      const startedAt = this.now();
      db.prepare(
        `UPDATE processes SET state = 'running', pid = ?, start_marker = ?, started_at = ?, deadline_at = ? WHERE run_id = ? AND attempt = ?`,
      ).run(
        pid,
        startMarker(pid),
        startedAt.toISOString(),
        new Date(startedAt.getTime() + timeoutMs).toISOString(),
        run.runId,
        attempt,
      );
      const live: Live = { child, pid, stopReason: null, timers: [] };
      this.live.set(key, live);
      live.timers.push(
        setTimeout(
          () =>
            this.stop(run.runId, attempt, `${BERTH_STOP_REASONS.timeout}: ran longer than ${job.timeout}`),
          timeoutMs,
        ),
      );
      child.once('exit', (code, signal) => {
        for (const t of live.timers) clearTimeout(t);
        this.live.delete(key);
        const stoppedAt = this.now().toISOString();
        db.prepare(
          `UPDATE processes SET state = 'exited', exit_code = ?, signal = ?, stop_reason = ?, exited_at = ? WHERE run_id = ? AND attempt = ?`,
        ).run(code, signal, live.stopReason, stoppedAt, run.runId, attempt);
        crashPoint('after-exit');
        this.options.onExit({
          runId: run.runId,
          attempt,
          pid,
          exitCode: code,
          signal,
          stopReason: live.stopReason,
          startedAt: startedAt.toISOString(),
          stoppedAt,
        });
      });
      return {
        ok: true,
        taskArn: `local:${pid}`,
        capacity: driver === 'docker' ? 'docker' : 'local',
      } as LaunchResult;
    });
  }

  /** SIGTERM, then SIGKILL after the grace period. The reason is what the attempt records. */
  stop(runId: string, attempt: number, reason: string): boolean {
    const live = this.live.get(`${runId}#${attempt}`);
    if (!live) return false;
    if (live.stopReason === null) live.stopReason = reason;
    killGroup(live.pid, 'SIGTERM');
    live.timers.push(setTimeout(() => killGroup(live.pid, 'SIGKILL'), this.options.stopGraceMs ?? 5000));
    return true;
  }

  /** Stops every child (engine shutdown); resolves when all have exited or after the grace period. */
  async stopAll(reason: string): Promise<void> {
    const waits = [...this.live.entries()].map(([key, live]) => {
      const [runId, attempt] = key.split('#') as [string, string];
      const exited = new Promise<void>((r) => live.child.once('exit', () => r()));
      this.stop(runId, Number(attempt), reason);
      return exited;
    });
    await Promise.race([
      Promise.all(waits),
      new Promise((r) => setTimeout(r, (this.options.stopGraceMs ?? 5000) + 500)),
    ]);
  }
}
