/**
 * One engine per project folder, with real `berth dev` processes: two started at the same moment → one
 * runs, the other exits naming the holder's pid, and no task of the live one is touched; a third started
 * while a task runs is refused too. Deleting `.berth` under a running engine stops it with a clear message.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  cli,
  type EngineProc,
  job,
  makeProject,
  runs,
  spawns,
  startEngine,
  waitFor,
} from './harness.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) cleanup(d);
});

describe('one berth dev per folder', () => {
  it('lets exactly one of two engines started together run; the other names its pid; tasks are untouched', async () => {
    const dir = makeProject('lock', { slow: job('slow', `retry: { maxAttempts: 1 }`) });
    dirs.push(dir);
    const [a, b] = await Promise.all([
      startEngine(dir, { waitReady: false }),
      startEngine(dir, { waitReady: false }),
    ]);
    const engines = [a, b] as EngineProc[];
    try {
      const settled = await waitFor(
        () => {
          const ready = engines.filter((e) => e.output().includes('/events') && e.proc.exitCode === null);
          const gone = engines.filter((e) => e.proc.exitCode !== null);
          return ready.length === 1 && gone.length === 1 && { live: ready[0], refused: gone[0] };
        },
        30_000,
        () => engines.map((e) => e.output()).join('\n---\n'),
      );
      const live = settled.live as EngineProc;
      const refused = settled.refused as EngineProc;
      expect(refused.proc.exitCode).toBe(1);
      expect(refused.output()).toContain(`another berth dev (pid ${live.proc.pid}`);
      expect(refused.output()).toContain('stop it first');

      // A third engine while a task of the live one runs: refused, and the task runs to its end.
      expect(cli(dir, ['invoke', 'slow', '--payload', '{"sleepMs":3000}']).code).toBe(0);
      await waitFor(() => spawns(dir).some((s) => s.what === 'start'));
      const third = await startEngine(dir, { waitReady: false });
      const exit = await third.exited;
      expect(exit.code).toBe(1);
      expect(third.output()).toContain(`pid ${live.proc.pid}`);
      await waitFor(() => runs(dir, 'slow')[0]?.status === 'succeeded', 15_000);
      expect(spawns(dir).map((s) => s.what)).toEqual(['start', 'end']);
      expect(live.proc.exitCode).toBeNull();
    } finally {
      await Promise.all(engines.map((e) => e.stop()));
    }
  }, 90_000);

  it('stops with a clear message when .berth is deleted under it, and a new engine starts afresh', async () => {
    const dir = makeProject('rmstate', { slow: job('slow', `retry: { maxAttempts: 1 }`) });
    dirs.push(dir);
    const engine = await startEngine(dir);
    try {
      rmSync(join(dir, '.berth'), { recursive: true, force: true });
      const exit = await Promise.race([
        engine.exited,
        new Promise<'alive'>((r) => setTimeout(() => r('alive'), 10_000)),
      ]);
      expect(exit).toEqual({ code: 1, signal: null });
      expect(engine.output()).toMatch(/\.berth[/\\]engine\.lock was deleted while berth dev ran — stopping/);
    } finally {
      await engine.stop();
    }
    const again = await startEngine(dir);
    try {
      expect(cli(dir, ['invoke', 'slow']).code).toBe(0);
      await waitFor(() => runs(dir, 'slow')[0]?.status === 'succeeded', 15_000);
    } finally {
      await again.stop();
    }
  }, 90_000);
});
