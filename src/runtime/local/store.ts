/**
 * `RunStore` on SQLite. Every state change is one conditional `UPDATE … WHERE status IN (…)` whose
 * `changes` count says whether it applied, the local twin of DynamoDB's condition expressions.
 */
import type { OutcomeClass, RunStatus } from '../../core/lifecycle/states.js';
import type { TriggerPayload } from '../../core/lifecycle/trigger.js';
import type { AttemptRecord, RunRecord, RunStore } from '../ports.js';
import type { LocalRunFilter } from './api.js';
import type { Db } from './db.js';

const RUN_COLUMNS: Record<keyof RunRecord, string> = {
  runId: 'run_id',
  job: 'job',
  status: 'status',
  attempt: 'attempt',
  maxAttempts: 'max_attempts',
  trigger: 'trigger',
  idempotencyKey: 'idempotency_key',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  endedAt: 'ended_at',
  outcome: 'outcome',
  exitCode: 'exit_code',
  stopCode: 'stop_code',
  reason: 'reason',
  decision: 'decision',
  nextAttemptAt: 'next_attempt_at',
  taskArn: 'task_arn',
  deadLettered: 'dead_lettered',
  replayOf: 'replay_of',
};

const ATTEMPT_COLUMNS: Record<keyof AttemptRecord, string> = {
  runId: 'run_id',
  attempt: 'attempt',
  status: 'status',
  taskArn: 'task_arn',
  capacity: 'capacity',
  launchedAt: 'launched_at',
  startedAt: 'started_at',
  stoppedAt: 'stopped_at',
  durationMs: 'duration_ms',
  outcome: 'outcome',
  exitCode: 'exit_code',
  stopCode: 'stop_code',
  reason: 'reason',
  costUsd: 'cost_usd',
};

type Row = Record<string, unknown>;

function toSql(key: string, value: unknown): unknown {
  if (key === 'trigger') return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value === undefined ? null : value;
}

export function runFromRow(r: Row): RunRecord {
  return {
    runId: r.run_id as string,
    job: r.job as string,
    status: r.status as RunStatus,
    attempt: r.attempt as number,
    maxAttempts: r.max_attempts as number,
    trigger: JSON.parse(r.trigger as string) as TriggerPayload,
    idempotencyKey: r.idempotency_key as string,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
    endedAt: (r.ended_at as string | null) ?? null,
    outcome: (r.outcome as OutcomeClass | null) ?? null,
    exitCode: (r.exit_code as number | null) ?? null,
    stopCode: (r.stop_code as string | null) ?? null,
    reason: (r.reason as string | null) ?? null,
    decision: (r.decision as string | null) ?? null,
    nextAttemptAt: (r.next_attempt_at as string | null) ?? null,
    taskArn: (r.task_arn as string | null) ?? null,
    deadLettered: r.dead_lettered === 1,
    replayOf: (r.replay_of as string | null) ?? null,
  };
}

function attemptFromRow(r: Row): AttemptRecord {
  const out = {} as Record<string, unknown>;
  for (const [key, column] of Object.entries(ATTEMPT_COLUMNS)) out[key] = r[column] ?? null;
  return out as unknown as AttemptRecord;
}

/** SQLite `RunStore`. Synchronous underneath; the engine runs each lifecycle step inside one transaction. */
export class SqliteRunStore implements RunStore {
  /** Called after every write that changed a run (the engine turns it into a `run` event). */
  onRunChanged: (runId: string) => void = () => {};

  constructor(private readonly db: Db) {}

  createRunSync(run: RunRecord): boolean {
    const columns = Object.values(RUN_COLUMNS);
    const values = (Object.keys(RUN_COLUMNS) as (keyof RunRecord)[]).map((k) => toSql(k, run[k]));
    const s3Key = run.trigger.kind === 's3' ? run.trigger.key : null;
    const info = this.db
      .prepare(
        `INSERT OR IGNORE INTO runs (${columns.join(', ')}, trigger_kind, s3_key) VALUES (${columns.map(() => '?').join(', ')}, ?, ?)`,
      )
      .run(...values, run.trigger.kind, s3Key);
    if (info.changes === 1) this.onRunChanged(run.runId);
    return info.changes === 1;
  }

  async createRun(run: RunRecord): Promise<boolean> {
    return this.createRunSync(run);
  }

  getRunSync(runId: string): RunRecord | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE run_id = ?').get(runId) as Row | undefined;
    return row ? runFromRow(row) : undefined;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.getRunSync(runId);
  }

  transitionSync(
    runId: string,
    from: readonly RunStatus[],
    patch: Partial<RunRecord> & { status: RunStatus },
    condition: { attempt?: number } = {},
  ): boolean {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [key, value] of Object.entries(patch)) {
      const column = RUN_COLUMNS[key as keyof RunRecord];
      if (!column || key === 'runId') continue;
      sets.push(`${column} = ?`);
      values.push(toSql(key, value));
    }
    if (sets.length === 0) return false;
    let where = `run_id = ? AND status IN (${from.map(() => '?').join(', ')})`;
    values.push(runId, ...from);
    if (condition.attempt !== undefined) {
      where += ' AND attempt = ?';
      values.push(condition.attempt);
    }
    const info = this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE ${where}`).run(...values);
    if (info.changes === 1) this.onRunChanged(runId);
    return info.changes === 1;
  }

  async transition(
    runId: string,
    from: readonly RunStatus[],
    patch: Partial<RunRecord> & { status: RunStatus },
    condition?: { attempt?: number },
  ): Promise<boolean> {
    return this.transitionSync(runId, from, patch, condition);
  }

  async createAttempt(attempt: AttemptRecord): Promise<boolean> {
    const keys = Object.keys(ATTEMPT_COLUMNS) as (keyof AttemptRecord)[];
    const info = this.db
      .prepare(
        `INSERT OR IGNORE INTO attempts (${keys.map((k) => ATTEMPT_COLUMNS[k]).join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`,
      )
      .run(...keys.map((k) => toSql(k, attempt[k])));
    return info.changes === 1;
  }

  async updateAttempt(
    runId: string,
    attempt: number,
    patch: Partial<AttemptRecord>,
    options: { onlyIfNotEnded?: boolean } = {},
  ): Promise<boolean> {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [key, value] of Object.entries(patch)) {
      const column = ATTEMPT_COLUMNS[key as keyof AttemptRecord];
      if (!column || key === 'runId' || key === 'attempt') continue;
      sets.push(`${column} = ?`);
      values.push(toSql(key, value));
    }
    if (sets.length === 0) return false;
    const where = `run_id = ? AND attempt = ?${options.onlyIfNotEnded ? ` AND status != 'ended'` : ''}`;
    const info = this.db
      .prepare(`UPDATE attempts SET ${sets.join(', ')} WHERE ${where}`)
      .run(...values, runId, attempt);
    return info.changes === 1;
  }

  listAttemptsSync(runId: string): AttemptRecord[] {
    return (
      this.db.prepare('SELECT * FROM attempts WHERE run_id = ? ORDER BY attempt').all(runId) as Row[]
    ).map(attemptFromRow);
  }

  async listAttempts(runId: string): Promise<AttemptRecord[]> {
    return this.listAttemptsSync(runId);
  }

  listRunsSync(filter: LocalRunFilter): RunRecord[] {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.job) {
      where.push('job = ?');
      values.push(filter.job);
    }
    if (filter.status) {
      where.push('status = ?');
      values.push(filter.status);
    }
    if (filter.since) {
      where.push('created_at >= ?');
      values.push(filter.since);
    }
    if (filter.replayOf) {
      where.push('replay_of = ?');
      values.push(filter.replayOf);
    }
    if (filter.search) {
      where.push(`(instr(run_id, ?) > 0 OR instr(coalesce(s3_key, ''), ?) > 0)`);
      values.push(filter.search, filter.search);
    }
    const limit = Math.max(1, Math.min(filter.limit ?? 100, 10_000));
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ${limit}`;
    return (this.db.prepare(sql).all(...values) as Row[]).map(runFromRow);
  }

  async listRuns(filter: LocalRunFilter): Promise<RunRecord[]> {
    return this.listRunsSync(filter);
  }

  async countActive(job: string): Promise<number> {
    const row = this.db
      .prepare(`SELECT COUNT(*) AS n FROM runs WHERE job = ? AND status IN ('launching', 'running')`)
      .get(job) as { n: number };
    return row.n;
  }

  async acquireSlot(job: string, runId: string, max: number): Promise<boolean> {
    const held = this.db.prepare('SELECT 1 FROM slots WHERE job = ? AND run_id = ?').get(job, runId);
    if (held) return true;
    // One statement: insert only while the count is under the cap, so two launches cannot both take the last slot.
    const info = this.db
      .prepare(
        'INSERT INTO slots (job, run_id) SELECT ?, ? WHERE (SELECT COUNT(*) FROM slots WHERE job = ?) < ?',
      )
      .run(job, runId, job, max);
    return info.changes === 1;
  }

  async releaseSlot(job: string, runId: string): Promise<void> {
    if (this.db.prepare('DELETE FROM slots WHERE job = ? AND run_id = ?').run(job, runId).changes === 1)
      this.onSlotReleased(job);
  }

  /** Called (inside the step's transaction) each time a held slot of `job` is released. */
  onSlotReleased: (job: string) => void = () => {};

  /** Slots of `job` held now. */
  slotsHeld(job: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM slots WHERE job = ?').get(job) as { n: number }).n;
  }

  /** Failed or timed-out runs of a job not replayed (or redriven) yet, oldest first. */
  unreplayedFailures(job: string): RunRecord[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM runs WHERE job = ? AND status IN ('failed', 'timed_out') AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.replay_of = runs.run_id) ORDER BY created_at`,
        )
        .all(job) as Row[]
    ).map(runFromRow);
  }

  /** The first run that replays or redrives `runId`, if any. */
  replayedBy(runId: string): string | null {
    const row = this.db
      .prepare('SELECT run_id FROM runs WHERE replay_of = ? ORDER BY created_at, rowid LIMIT 1')
      .get(runId) as { run_id: string } | undefined;
    return row?.run_id ?? null;
  }
}
