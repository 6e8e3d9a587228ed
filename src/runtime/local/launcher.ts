/**
 * The local `TaskLauncher`: runs an attempt as a child process (the job's `task.local.command`, else
 * `task.command`) or as `docker run`. Before spawning it records a `spawning` row, after it the pid and a
 * start marker, so an engine that restarts after `kill -9` recognises the children of its dead predecessor.
 *
 * Each attempt runs under a tiny `/bin/sh` wrapper, the leader of a new process group: it runs the command,
 * then writes its exit status to `.berth/exits/<runId>.<attempt>`, so an engine restarted after `kill -9`
 * records how an attempt ended even when it ended while no engine was there to see it (and adopts one that
 * still runs). When an attempt ends, its whole process group goes: SIGTERM, then SIGKILL after the grace,
 * even after the leader exited.
 */
import { type ChildProcess, spawn } from 'node:child_process';

import {
  accessSync,
  appendFileSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { formatDuration, parseDuration } from '../../core/duration.js';
import { BERTH_STOP_REASONS } from '../../core/lifecycle/classify.js';
import type { Job } from '../../core/model/job.js';
import type { LaunchRequest, LaunchResult, TaskLauncher } from '../ports.js';
import type { Db } from './db.js';
import { dockerRunArgv } from './docker.js';
import { crashPoint } from './faults.js';
import { attemptExitFile, attemptLogFile, type DevPaths } from './paths.js';

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
  /** Undefined for a process adopted from a previous engine (not our child: watched by polling). */
  child: ChildProcess | undefined;
  pid: number;
  stopReason: string | null;
  timers: NodeJS.Timeout[];
  /** When the group got SIGTERM (the SIGKILL follows after the grace). */
  termAt?: number;
  exited: Promise<void>;
}

/** The wrapper's stderr reader: sh builtins only (a job's PATH cannot lose it), about 100k lines a second. */
const SH_READER = `while IFS= read -r l || [ -n "$l" ]; do printf '\\036%s\\n' "$l"; done`;

/**
 * The wrapper: `sh -c <wrapper> berth-attempt <exitFile> <command…>`. It traps TERM/INT/HUP (a handler, not
 * an ignore, so the command gets the default action back at exec) and waits for the command, then writes
 * the status (128+n when a signal killed it, as ECS reports) in one small write ending in a newline: a
 * reader takes the file only when it holds a whole line.
 *
 * The command's stderr goes through a FIFO to a small reader in the same process group that writes each line
 * into the same log with a leading `\x1e` (STDERR_MARK in src/runtime/logs.ts), so the dashboard shows
 * stderr lines apart from stdout, in the order they came. The reader ignores TERM (a task's last words on
 * stderr after SIGTERM still reach the log) and ends when every writer has closed stderr. The wrapper waits
 * for it and reaps it, polling (`kill -0`, `sleep 0.005`) for at most about a second: left to init, an ended
 * reader can stay a zombie where PID 1 reaps nothing (a container without an init), and the launcher would
 * wait for the group to empty; past the second (a grandchild holds stderr open) the wrapper exits and the
 * launcher ends what is left of the group as before. Cost: one `mkfifo` and one fork per attempt (a few ms),
 * and stderr runs at about 100k lines a second (a task writing faster waits on its stderr). Without `mkfifo`
 * stderr goes into the log unmarked.
 */
function wrapper(reader: string): string {
  return [
    'f=$1; shift; trap : TERM INT HUP; p="$f.err"; rm -f "$p"',
    'if mkfifo "$p" 2>/dev/null; then',
    ` (trap '' TERM INT HUP; ${reader}) < "$p" & m=$!`,
    ' exec 4>"$p"; rm -f "$p"; "$@" 2>&4 4>&-; s=$?; exec 4>&-',
    // Reap the reader (it ends as soon as nothing holds stderr), waiting at most about a second.
    ' i=0; while kill -0 $m 2>/dev/null && [ $i -lt 200 ]; do sleep 0.005; i=$((i+1)); done',
    'else "$@"; s=$?; fi',
    `printf '%s\\n' "$s" > "$f"; exit $s`,
  ].join('\n');
}

/** The wrapper every attempt runs under. */
export const WRAPPER = wrapper(SH_READER);

/** How long after the SIGKILL an attempt's group may still answer (zombies) before the attempt is recorded. */
const ZOMBIE_WAIT_MS = 2000;

/** Reads an exit file written by the wrapper: the status and when it was written; undefined when absent or torn. */
export function readExitFile(file: string): { exitCode: number; at: Date } | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    const m = /^(\d+)\n$/.exec(text);
    if (!m) return undefined;
    return { exitCode: Number(m[1]), at: statSync(file).mtime };
  } catch {
    return undefined;
  }
}

/** Whether any process of group `pgid` is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Where `file` resolves for a spawn in `cwd` with `PATH` from `env`; undefined when there is no such
 * executable (what would fail with ENOENT or EACCES at exec).
 */
export function resolveExecutable(
  file: string,
  cwd: string,
  env: Record<string, string | undefined>,
): string | undefined {
  const executable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (file.includes('/')) {
    const p = isAbsolute(file) ? file : resolve(cwd, file);
    return executable(p) ? p : undefined;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(resolve(cwd, dir), file);
    if (executable(p)) return p;
  }
  return undefined;
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

/**
 * Appends one of berth's own lines to an attempt's log, on a line of its own even when the task's last
 * output has no line break yet. Never throws: a log that cannot be written must not stop a stop.
 */
export function appendLogLine(file: string, line: string): void {
  try {
    let lead = '';
    try {
      const size = statSync(file).size;
      if (size > 0) {
        const fd = openSync(file, 'r');
        try {
          const last = Buffer.alloc(1);
          readSync(fd, last, 0, 1, size - 1);
          if (last[0] !== 0x0a) lead = '\n';
        } finally {
          closeSync(fd);
        }
      }
    } catch {
      // No log yet: the line starts it.
    }
    appendFileSync(file, `${lead}${line}\n`);
  } catch {
    // The logs folder is gone or full: the stop goes on, the attempt records its reason anyway.
  }
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
  private exitsDirMade = false;

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

  /** Why `job` could not start here (a reason no retry can fix), or undefined: `berth dev` warns at start. */
  checkJob(job: Job): string | undefined {
    const driver = this.options.driverFor(job);
    const command = commandFor(job);
    const env = { ...process.env, ...job.task.environment, ...command.env, ...this.options.env };
    const cwd = resolve(this.options.paths.root, command.cwd ?? '.');
    const file = driver === 'docker' ? 'docker' : (command.argv[0] ?? '');
    return configProblem(job, { file, cwd, env, driver });
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
      file = first ?? '';
      args = rest;
    }
    const cwd = resolve(this.options.paths.root, command.cwd ?? '.');
    const problem = configProblem(job, { file, cwd, env, driver });
    if (problem) return { ok: false, kind: 'failed', reason: problem };
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
      const exitFile = attemptExitFile(this.options.paths, run.runId, attempt);
      if (!this.exitsDirMade) {
        mkdirSync(this.options.paths.exits, { recursive: true });
        this.exitsDirMade = true;
      }
      rmSync(exitFile, { force: true });
      let child: ChildProcess;
      try {
        child = spawn('/bin/sh', ['-c', WRAPPER, 'berth-attempt', exitFile, file, ...args], {
          cwd,
          env,
          stdio: ['ignore', fd, fd],
          detached: true,
        });
      } finally {
        closeSync(fd);
      }
      const pid = child.pid;
      if (pid === undefined) {
        const reason = `${BERTH_STOP_REASONS.config}: /bin/sh could not be started in ${cwd} (spawn failed) — check that the folder exists`;
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
      let resolveExited!: () => void;
      const live: Live = {
        child,
        pid,
        stopReason: null,
        timers: [],
        exited: new Promise<void>((r) => {
          resolveExited = r;
        }),
      };
      this.live.set(key, live);
      live.timers.push(
        setTimeout(
          () =>
            this.stop(run.runId, attempt, `${BERTH_STOP_REASONS.timeout}: ran longer than ${job.timeout}`),
          timeoutMs,
        ),
      );
      child.once('exit', (code, signal) => {
        void this.settle(key, live, startedAt.toISOString(), { exitCode: code, signal }).finally(
          resolveExited,
        );
      });
      return {
        ok: true,
        taskArn: `local:${pid}`,
        capacity: driver === 'docker' ? 'docker' : 'local',
      } as LaunchResult;
    });
  }

  private get graceMs(): number {
    return this.options.stopGraceMs ?? 5000;
  }

  /**
   * The leader exited: what is left of its process group gets SIGTERM, then SIGKILL when the grace (counted
   * from the first SIGTERM) runs out; the attempt is recorded once the group is gone.
   */
  private async settle(
    key: string,
    live: Live,
    startedAt: string,
    end: { exitCode: number | null; signal: string | null },
  ): Promise<void> {
    for (const t of live.timers) clearTimeout(t);
    const [runId, attemptText] = key.split('#') as [string, string];
    const attempt = Number(attemptText);
    // The wrapper's status is the command's; a wrapper killed itself (SIGKILL) has no file.
    const file = readExitFile(attemptExitFile(this.options.paths, runId, attempt));
    let exitCode = end.exitCode;
    let signal = end.signal;
    if (file && exitCode === null) {
      exitCode = file.exitCode;
      signal = null;
    }
    if (groupAlive(live.pid)) {
      if (live.termAt === undefined) {
        live.termAt = Date.now();
        killGroup(live.pid, 'SIGTERM');
      }
      const killAt = live.termAt + this.graceMs;
      // A SIGKILLed process is gone at once; what still answers after this is a zombie nobody reaps (a
      // container whose PID 1 does not reap): it runs nothing, so stop waiting for it.
      const giveUpAt = killAt + ZOMBIE_WAIT_MS;
      while (groupAlive(live.pid) && Date.now() < giveUpAt) {
        if (Date.now() >= killAt) killGroup(live.pid, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    this.live.delete(key);
    const stoppedAt = this.now().toISOString();
    const db = this.options.db;
    if (db.open) {
      db.prepare(
        `UPDATE processes SET state = 'exited', exit_code = ?, signal = ?, stop_reason = ?, exited_at = ? WHERE run_id = ? AND attempt = ?`,
      ).run(exitCode, signal, live.stopReason, stoppedAt, runId, attempt);
      rmSync(attemptExitFile(this.options.paths, runId, attempt), { force: true });
    }
    crashPoint('after-exit');
    this.options.onExit({
      runId,
      attempt,
      pid: live.pid,
      exitCode,
      signal,
      stopReason: live.stopReason,
      startedAt,
      stoppedAt,
    });
  }

  /**
   * Takes over an attempt a previous engine started whose wrapper still runs: it is not our child, so its end
   * is seen by polling (the wrapper's exit file, or the process gone); its timeout counts from `deadlineAt`.
   */
  adopt(input: {
    runId: string;
    attempt: number;
    pid: number;
    startMarker: string | null;
    startedAt: string;
    deadlineAt: string | null;
    timeout: string;
  }): void {
    const key = `${input.runId}#${input.attempt}`;
    if (this.live.has(key)) return;
    let resolveExited!: () => void;
    const live: Live = {
      child: undefined,
      pid: input.pid,
      stopReason: null,
      timers: [],
      exited: new Promise<void>((r) => {
        resolveExited = r;
      }),
    };
    this.live.set(key, live);
    const left = input.deadlineAt ? Date.parse(input.deadlineAt) - Date.now() : parseDuration(input.timeout);
    live.timers.push(
      setTimeout(
        () =>
          this.stop(
            input.runId,
            input.attempt,
            `${BERTH_STOP_REASONS.timeout}: ran longer than ${input.timeout}`,
          ),
        Math.max(0, left),
      ),
    );
    const poll = setInterval(() => {
      if (isSameProcessAlive(input.pid, input.startMarker)) return;
      clearInterval(poll);
      const file = readExitFile(attemptExitFile(this.options.paths, input.runId, input.attempt));
      void this.settle(
        key,
        live,
        input.startedAt,
        file ? { exitCode: file.exitCode, signal: null } : { exitCode: null, signal: 'SIGKILL' },
      ).finally(resolveExited);
    }, 50);
    live.timers.push(poll);
  }

  /**
   * SIGTERM, then SIGKILL after the grace period. The reason is what the attempt records; each signal is also
   * written into the attempt's log as a `berth:` line, so the log says why the task's output stops.
   */
  stop(runId: string, attempt: number, reason: string): boolean {
    const live = this.live.get(`${runId}#${attempt}`);
    if (!live) return false;
    if (live.stopReason === null) live.stopReason = reason;
    if (live.termAt === undefined) live.termAt = Date.now();
    const log = attemptLogFile(this.options.paths, runId, attempt);
    appendLogLine(log, `berth: sent SIGTERM (${reason.replace(/^berth: /, '')})`);
    killGroup(live.pid, 'SIGTERM');
    live.timers.push(
      setTimeout(() => {
        if (!groupAlive(live.pid)) return;
        appendLogLine(
          log,
          `berth: sent SIGKILL (still running ${formatDuration(this.graceMs)} after SIGTERM)`,
        );
        killGroup(live.pid, 'SIGKILL');
      }, this.graceMs),
    );
    return true;
  }

  /** Stops every child (engine shutdown); resolves when all have ended or after the grace period. */
  async stopAll(reason: string): Promise<void> {
    const waits = [...this.live.entries()].map(([key, live]) => {
      const [runId, attempt] = key.split('#') as [string, string];
      this.stop(runId, Number(attempt), reason);
      return live.exited;
    });
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, this.graceMs + 500))]);
  }
}

/**
 * A reason no retry can fix, or undefined: no command to run locally, or an executable that does not exist
 * (or is not executable) from the job's working folder. The reason starts with `berth: cannot start locally`
 * (`BERTH_STOP_REASONS.config`), which ends the run at once, and names the file and the fix.
 */
export function configProblem(
  job: Job,
  at: { file: string; cwd: string; env: Record<string, string | undefined>; driver: Driver },
): string | undefined {
  const field = job.task.local ? 'task.local.command' : 'task.command';
  if (at.driver === 'docker') {
    return resolveExecutable('docker', at.cwd, at.env)
      ? undefined
      : `${BERTH_STOP_REASONS.config}: docker: command not found — install Docker, or give ${job.file} a task.local.command to run without it`;
  }
  if (!at.file) {
    return `${BERTH_STOP_REASONS.config}: ${job.file}: job '${job.name}' has no command to run locally — add task.local.command (or task.command)`;
  }
  if (!existsSync(at.cwd)) {
    return `${BERTH_STOP_REASONS.config}: ${job.file}: task.local.cwd: folder ${at.cwd} does not exist — fix task.local.cwd`;
  }
  if (!resolveExecutable(at.file, at.cwd, at.env)) {
    return `${BERTH_STOP_REASONS.config}: ${at.file}: command not found (ENOENT in ${at.cwd}) — fix ${field} of ${job.file} or install ${at.file}`;
  }
  return undefined;
}
