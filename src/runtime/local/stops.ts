/**
 * Recording how attempts end. A child's exit observed by this engine becomes a `recordStop` call; after a
 * restart, `reconcile` settles every process row the previous engine did not finish: a recorded exit is
 * replayed into `recordStop`; an attempt whose wrapper wrote its exit status while no engine ran is recorded
 * with that status (not `lost`); an attempt still running is adopted (watched to its end, its timeout kept);
 * only one that vanished without a status is recorded `lost`, so the retry policy decides.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isFinalStatus } from '../../core/lifecycle/states.js';
import { recordStop } from '../lifecycle.js';
import type { StopReport } from '../ports.js';
import type { EngineContext } from './context.js';
import { crashPoint } from './faults.js';
import {
  type ExitInfo,
  findProcessesOfAttempt,
  isSameProcessAlive,
  killGroup,
  type ProcessLauncher,
  readExitFile,
} from './launcher.js';
import { attemptExitFile } from './paths.js';

/** The stop reason of attempts still running when `berth dev` stops: recorded `lost`, retried next start. */
export const SHUTDOWN_REASON = 'berth dev stopped while the attempt ran';

export interface StopRecorderHooks {
  /** Something may be launchable now. */
  wake: () => void;
  /** Takes over attempts still running after a restart. */
  launcher: () => ProcessLauncher;
}

export class StopRecorder {
  constructor(
    private readonly ctx: EngineContext,
    private readonly hooks: StopRecorderHooks,
  ) {}

  /** The launcher's exit callback. */
  async onExit(info: ExitInfo): Promise<void> {
    const ctx = this.ctx;
    const run = ctx.store.getRunSync(info.runId);
    const job = run ? ctx.job(run.job) : undefined;
    if (!run || !job) return;
    const shutdown = info.stopReason === SHUTDOWN_REASON;
    const stop: StopReport = {
      runId: info.runId,
      attempt: info.attempt,
      taskArn: `local:${info.pid}`,
      startedAt: info.startedAt,
      stoppedAt: info.stoppedAt,
      containers: [{ name: job.name, exitCode: info.exitCode }],
      signal: info.signal,
      stoppedReason: info.stopReason,
      ...(shutdown ? { missing: true } : {}),
    };
    await ctx.tx.run(async () => {
      await recordStop(ctx.deps, job, stop);
      this.markRecorded(info.runId, info.attempt);
    });
    crashPoint('after-stop');
    this.hooks.wake();
  }

  private markRecorded(runId: string, attempt: number): void {
    this.ctx.db
      .prepare(`UPDATE processes SET state = 'recorded' WHERE run_id = ? AND attempt = ?`)
      .run(runId, attempt);
  }

  /** After a restart: settles every process row the previous engine did not finish. */
  async reconcile(): Promise<void> {
    const ctx = this.ctx;
    type Row = {
      run_id: string;
      attempt: number;
      state: string;
      pid: number | null;
      start_marker: string | null;
      engine_pid: number;
      started_at: string | null;
      deadline_at: string | null;
      exit_code: number | null;
      signal: string | null;
      stop_reason: string | null;
      exited_at: string | null;
    };
    const rows = ctx.db
      .prepare(`SELECT * FROM processes WHERE state IN ('spawning', 'running', 'exited')`)
      .all() as Row[];
    for (const row of rows) {
      const run = ctx.store.getRunSync(row.run_id);
      const job = run ? ctx.job(run.job) : undefined;
      if (!run || !job || isFinalStatus(run.status)) {
        this.markRecorded(row.run_id, row.attempt);
        continue;
      }
      let stop: StopReport;
      const now = new Date().toISOString();
      if (row.state === 'exited') {
        stop = {
          runId: row.run_id,
          attempt: row.attempt,
          taskArn: `local:${row.pid}`,
          startedAt: row.started_at,
          stoppedAt: row.exited_at ?? now,
          containers: [{ name: job.name, exitCode: row.exit_code }],
          signal: row.signal,
          stoppedReason: row.stop_reason,
        };
      } else {
        let fate = 'was never started';
        const exit = readExitFile(attemptExitFile(ctx.paths, row.run_id, row.attempt));
        if (row.pid !== null && isSameProcessAlive(row.pid, row.start_marker) && row.started_at) {
          // Still running: watch it to its end, as if this engine had started it.
          this.hooks.launcher().adopt({
            runId: row.run_id,
            attempt: row.attempt,
            pid: row.pid,
            startMarker: row.start_marker,
            startedAt: row.started_at,
            deadlineAt: row.deadline_at,
            timeout: job.timeout,
          });
          continue;
        }
        if (row.pid !== null && exit) {
          // Ended while no engine ran; its wrapper left the status. Anything left of its group goes.
          killGroup(row.pid, 'SIGKILL');
          stop = {
            runId: row.run_id,
            attempt: row.attempt,
            taskArn: `local:${row.pid}`,
            startedAt: row.started_at,
            stoppedAt: exit.at.toISOString(),
            containers: [{ name: job.name, exitCode: exit.exitCode }],
            stoppedReason: null,
          };
          await ctx.tx.run(async () => {
            await recordStop(ctx.deps, job, stop);
            this.markRecorded(row.run_id, row.attempt);
          });
          continue;
        }
        if (row.pid !== null) {
          if (isSameProcessAlive(row.pid, row.start_marker)) {
            killGroup(row.pid, 'SIGKILL');
            fate = `(pid ${row.pid}) was still running and was stopped`;
          } else {
            killGroup(row.pid, 'SIGKILL');
            fate = `(pid ${row.pid}) had ended unobserved`;
          }
        } else {
          const strays = findProcessesOfAttempt(row.run_id, row.attempt);
          for (const pid of strays) killGroup(pid, 'SIGKILL');
          if (strays.length > 0) fate = `(pid ${strays.join(', ')}) was still running and was stopped`;
        }
        stop = {
          runId: row.run_id,
          attempt: row.attempt,
          taskArn: row.pid !== null ? `local:${row.pid}` : null,
          startedAt: row.started_at,
          stoppedAt: now,
          containers: [],
          missing: true,
          stoppedReason: `the berth dev engine (pid ${row.engine_pid}) died; the attempt's process ${fate}`,
        };
      }
      await ctx.tx.run(async () => {
        await recordStop(ctx.deps, job, stop);
        this.markRecorded(row.run_id, row.attempt);
      });
    }
    this.sweepExitFiles();
  }

  /** Exit files of attempts already recorded (a crash between recording and removing); adopted ones stay. */
  private sweepExitFiles(): void {
    const { exits } = this.ctx.paths;
    let names: string[];
    try {
      names = readdirSync(exits);
    } catch {
      return;
    }
    const open = new Set(
      (
        this.ctx.db
          .prepare(`SELECT run_id, attempt FROM processes WHERE state IN ('spawning', 'running', 'exited')`)
          .all() as { run_id: string; attempt: number }[]
      ).map((r) => `${r.run_id}.${r.attempt}`),
    );
    for (const name of names) if (!open.has(name)) rmSync(join(exits, name), { force: true });
  }
}
