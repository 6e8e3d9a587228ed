/** The CLI's nudge: a running engine reads a `berth send` / `invoke` at once instead of at its next poll. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nudgeEngine, watchNudges } from '../../../src/runtime/local/nudge.js';
import { REPO, waitFor } from './harness.js';

let dir: string;
beforeEach(() => {
  dir = join(REPO, '.tmp', `nudge-${process.pid}-${Math.random().toString(36).slice(2)}`, '.berth');
  mkdirSync(dir, { recursive: true });
});
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

describe('nudge', () => {
  it('wakes the watcher on each nudge, not on other writes in .berth (the database beside it)', async () => {
    let n = 0;
    const stop = watchNudges(dir, () => n++);
    try {
      writeFileSync(join(dir, 'dev.db-wal'), 'x');
      await new Promise((r) => setTimeout(r, 200));
      expect(n).toBe(0);
      nudgeEngine(dir);
      await waitFor(() => n >= 1, 2000);
      const before = n;
      nudgeEngine(dir);
      await waitFor(() => n > before, 2000);
    } finally {
      stop();
    }
  });

  it('never throws when no engine ever ran (no .berth/nudge folder)', () => {
    expect(() => nudgeEngine(join(dir, 'missing'))).not.toThrow();
  });
});
