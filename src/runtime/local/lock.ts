/**
 * One engine per project folder. `berth dev` takes an exclusive SQLite lock (`BEGIN EXCLUSIVE` on
 * `.berth/engine.lock`, a database of its own) before it loads a job or binds a port, and holds it for its
 * whole life. The operating system drops the lock when the process dies, however it dies, so a stale lock
 * cannot exist and nothing has to guess whether a recorded pid is still the same process. The holder writes
 * its pid next to it (`.berth/engine.pid`) so a second engine can say which process holds the folder.
 *
 * The lock also notices `.berth` being deleted or replaced while the engine runs (`intact`): the files it
 * holds are then no longer the ones at their paths, and a second engine could start beside it.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EngineError } from './http.js';
import type { DevPaths } from './paths.js';

interface Holder {
  pid: number;
  startedAt: string;
}

function inodeOf(file: string): string | undefined {
  try {
    const st = statSync(file);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

export class EngineLock {
  private readonly watched: { file: string; inode: string | undefined }[] = [];

  private constructor(
    private readonly paths: DevPaths,
    private readonly db: Database.Database,
  ) {
    this.watched.push({ file: paths.lock, inode: inodeOf(paths.lock) });
  }

  /** Where the holder's pid is written. */
  static pidFile(paths: DevPaths): string {
    return join(paths.dir, 'engine.pid');
  }

  /**
   * Takes the lock or throws an `EngineError` naming the process that holds it. The `.berth` folder must
   * exist.
   */
  static async acquire(paths: DevPaths): Promise<EngineLock> {
    const db = new Database(paths.lock, { timeout: 0 });
    try {
      db.pragma('journal_mode = DELETE');
      db.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      const holder = await readHolder(paths);
      throw new EngineError(
        `${paths.lock}: another berth dev${holder ? ` (pid ${holder.pid}, started ${holder.startedAt})` : ''} already runs this project — stop it first (each project folder runs one berth dev)`,
      );
    }
    const holder: Holder = { pid: process.pid, startedAt: new Date().toISOString() };
    writeFileSync(EngineLock.pidFile(paths), `${JSON.stringify(holder)}\n`);
    return new EngineLock(paths, db);
  }

  /** Also watch this file (the engine's database once it is open) for deletion or replacement. */
  watch(file: string): void {
    this.watched.push({ file, inode: inodeOf(file) });
  }

  /** Undefined while every held file is still the one at its path; else what changed. */
  intact(): string | undefined {
    for (const w of this.watched) {
      const now = inodeOf(w.file);
      if (now === undefined) return `${w.file} was deleted`;
      if (now !== w.inode) return `${w.file} was replaced`;
    }
    return undefined;
  }

  release(): void {
    if (!this.db.open) return;
    try {
      const holder = JSON.parse(readFileSync(EngineLock.pidFile(this.paths), 'utf8')) as Holder;
      if (holder.pid === process.pid && this.intact() === undefined)
        writeFileSync(EngineLock.pidFile(this.paths), '');
    } catch {
      // Gone with the folder.
    }
    try {
      this.db.exec('ROLLBACK');
    } catch {
      // Not in a transaction any more.
    }
    this.db.close();
  }
}

/** The holder's pid file; the holder writes it right after locking, so wait a moment for it. */
async function readHolder(paths: DevPaths): Promise<Holder | undefined> {
  for (let i = 0; i < 20; i++) {
    try {
      const holder = JSON.parse(readFileSync(EngineLock.pidFile(paths), 'utf8')) as Holder;
      if (typeof holder.pid === 'number') return holder;
    } catch {
      // Not written yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}
