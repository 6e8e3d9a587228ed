/**
 * The CLI's "look now" to a running engine. `berth send`, `invoke` and `redrive` commit straight into
 * `.berth/dev.db` (durable whether the engine runs or not); afterwards they write `.berth/nudge/wake`, a
 * folder the engine watches, so it reads the new rows at once instead of at its next `data_version` poll
 * (50 ms). Only a process that can write the project's `.berth/` folder can nudge, and a nudge carries
 * nothing: it only makes the engine look at the database sooner. (Its own folder, so the engine is not woken
 * by every write to `dev.db-wal` beside it.)
 */
import { type FSWatcher, mkdirSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NUDGE_DIR = 'nudge';

/** Tells a running engine (if any) to look at the database now. Never throws. */
export function nudgeEngine(berthDir: string): void {
  try {
    writeFileSync(join(berthDir, NUDGE_DIR, 'wake'), `${Date.now()}\n`);
  } catch {
    // No engine ever made the folder, or it is not writable: the engine's poll still finds the change.
  }
}

/** Calls `onNudge` each time something is written to `.berth/nudge/`. Returns a function that stops watching. */
export function watchNudges(berthDir: string, onNudge: () => void): () => void {
  let watcher: FSWatcher | undefined;
  try {
    const dir = join(berthDir, NUDGE_DIR);
    mkdirSync(dir, { recursive: true });
    watcher = watch(dir, { persistent: false }, () => onNudge());
    watcher.on('error', () => watcher?.close());
  } catch {
    // Watching is an optimisation; the poll remains.
  }
  return () => watcher?.close();
}
