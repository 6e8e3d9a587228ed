/**
 * The SQLite file behind `berth dev` (`.berth/dev.db`): WAL mode, versioned migrations, and a refusal to
 * touch a file that is not berth's. WAL with `synchronous = NORMAL` survives a killed process (only a power
 * loss can drop the last commits), which is the crash model of a development engine.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { BerthError } from '../../core/errors.js';

export type Db = Database.Database;

export class DevDbError extends BerthError {
  override name = 'DevDbError';
}

const APP_ID = 'berth-dev';

/** Versioned migrations; append only, never edit one that shipped. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'runs, attempts, slots, queues, processes, schedules, outbox',
    sql: `
      CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        job TEXT NOT NULL,
        status TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        trigger TEXT NOT NULL,
        trigger_kind TEXT NOT NULL,
        s3_key TEXT,
        idempotency_key TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        ended_at TEXT,
        outcome TEXT,
        exit_code INTEGER,
        stop_code TEXT,
        reason TEXT,
        decision TEXT,
        next_attempt_at TEXT,
        task_arn TEXT,
        dead_lettered INTEGER NOT NULL DEFAULT 0,
        replayed_by TEXT
      );
      CREATE INDEX runs_job_created ON runs (job, created_at);
      CREATE INDEX runs_created ON runs (created_at);
      CREATE INDEX runs_status ON runs (status);
      CREATE TABLE attempts (
        run_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL,
        task_arn TEXT,
        capacity TEXT,
        launched_at TEXT NOT NULL,
        started_at TEXT,
        stopped_at TEXT,
        duration_ms INTEGER,
        outcome TEXT,
        exit_code INTEGER,
        stop_code TEXT,
        reason TEXT,
        cost_usd REAL,
        PRIMARY KEY (run_id, attempt)
      );
      CREATE TABLE slots (job TEXT NOT NULL, run_id TEXT NOT NULL, PRIMARY KEY (job, run_id));
      CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL,
        attributes TEXT,
        group_id TEXT,
        sent_at INTEGER NOT NULL,
        visible_at INTEGER NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        first_received_at INTEGER,
        receipt TEXT,
        dead_lettered_at INTEGER
      );
      CREATE INDEX messages_queue_visible ON messages (queue, visible_at);
      CREATE TABLE processes (
        run_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        state TEXT NOT NULL,
        driver TEXT NOT NULL,
        pid INTEGER,
        start_marker TEXT,
        engine_pid INTEGER NOT NULL,
        log_path TEXT NOT NULL,
        started_at TEXT,
        deadline_at TEXT,
        exit_code INTEGER,
        signal TEXT,
        stop_reason TEXT,
        exited_at TEXT,
        PRIMARY KEY (run_id, attempt)
      );
      CREATE TABLE schedules (
        job TEXT NOT NULL,
        schedule_id TEXT NOT NULL,
        expression TEXT NOT NULL,
        anchor TEXT NOT NULL,
        last_fire TEXT NOT NULL,
        PRIMARY KEY (job, schedule_id)
      );
      CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL);
    `,
  },
  {
    version: 2,
    name: 'runs.replay_of links a replay to its original (replaces runs.replayed_by)',
    // The link now lives on the replay, set when it is created; the original's replays are a query away.
    // Backfill from replayed_by (the first replay of each run, which is all version 1 kept), then drop it.
    sql: `
      ALTER TABLE runs ADD COLUMN replay_of TEXT;
      UPDATE runs SET replay_of = (SELECT o.run_id FROM runs o WHERE o.replayed_by = runs.run_id LIMIT 1);
      CREATE INDEX runs_replay_of ON runs (replay_of);
      ALTER TABLE runs DROP COLUMN replayed_by;
    `,
  },
  {
    version: 3,
    name: 'FIFO queues: deduplication ids seen in the last 5 minutes',
    sql: `
      CREATE TABLE message_dedup (
        queue TEXT NOT NULL,
        dedup_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        PRIMARY KEY (queue, dedup_id)
      );
      CREATE INDEX messages_queue_group ON messages (queue, group_id, seq);
    `,
  },
  {
    version: 4,
    name: 'messages.receipt indexed: delete and change-visibility by receipt handle',
    // Every accepted message and every launch is deleted (or re-hidden) by its receipt; without an index each
    // of those scanned the whole messages table, which made a backlog quadratic.
    sql: `CREATE INDEX messages_receipt ON messages (receipt) WHERE receipt IS NOT NULL;`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

function tableNames(db: Db): string[] {
  return (
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as {
      name: string;
    }[]
  ).map((r) => r.name);
}

/**
 * Opens (and creates or migrates) the dev database. Refuses, with a message naming the file and the fix,
 * a file that is not SQLite, a SQLite file that another program owns, and one written by a newer berth.
 */
export function openDevDb(file: string, options: { readonly?: boolean } = {}): Db {
  if (options.readonly && !existsSync(file)) {
    throw new DevDbError(`${file}: no dev database yet — run berth dev (or berth send / invoke) first`);
  }
  if (!options.readonly) mkdirSync(dirname(file), { recursive: true });
  const fix = `move it away or delete it; berth dev creates a fresh one`;
  let db: Db;
  try {
    db = new Database(file, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly ?? false,
    });
  } catch (error) {
    throw new DevDbError(`${file}: cannot open the dev database (${(error as Error).message}) — ${fix}`, {
      cause: error,
    });
  }
  try {
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    const tables = tableNames(db);
    if (tables.length > 0) {
      const app = tables.includes('meta')
        ? (db.prepare(`SELECT value FROM meta WHERE key = 'app'`).get() as { value: string } | undefined)
        : undefined;
      if (app?.value !== APP_ID) {
        throw new DevDbError(
          `${file}: is a SQLite database of another program (tables: ${tables.slice(0, 5).join(', ')}) — ${fix}`,
        );
      }
    }
    if (!options.readonly) migrate(db, file);
    else checkVersion(db, file);
    cacheStatements(db);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof DevDbError) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new DevDbError(`${file}: is not a SQLite database or is corrupt — ${fix}`, { cause: error });
    }
    throw new DevDbError(`${file}: cannot use the dev database (${(error as Error).message}) — ${fix}`, {
      cause: error,
    });
  }
}

/** Most distinct SQL texts kept compiled; past this the cache starts over (SQL built with literals). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Makes `db.prepare` return one compiled statement per SQL text: compiling a statement costs more than
 * running it, and the engine runs the same few dozen statements for every trigger. Safe because berth only
 * calls `run`, `get` and `all` on its statements (never `iterate` or the mode setters `pluck`, `raw`,
 * `expand`, `safeIntegers`), so a statement carries no state from one use to the next.
 */
function cacheStatements(db: Db): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let statement = cache.get(sql);
    if (!statement) {
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.clear();
      statement = prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  }) as Db['prepare'];
}

function currentVersion(db: Db): number {
  const tables = tableNames(db);
  if (!tables.includes('migrations')) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM migrations').get() as { v: number | null };
  return row.v ?? 0;
}

function checkVersion(db: Db, file: string): void {
  const version = currentVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new DevDbError(
      `${file}: was written by a newer berth (schema ${version}, this berth knows ${SCHEMA_VERSION}) — upgrade berth, or move the file away`,
    );
  }
}

function migrate(db: Db, file: string): void {
  const run = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);`);
    db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('app', ?)`).run(APP_ID);
    checkVersion(db, file);
    const version = currentVersion(db);
    for (const m of MIGRATIONS) {
      if (m.version <= version) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
    }
  });
  run.immediate();
}
