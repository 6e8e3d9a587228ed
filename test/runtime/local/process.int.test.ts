/**
 * Attempts as process trees, with a real `berth dev`: an exit that happens while the engine is dead (kill -9)
 * is recorded as it happened, not `lost`; an attempt still running at a restart is adopted; nothing of an
 * attempt's process tree outlives the attempt (a grandchild ignoring SIGTERM is SIGKILLed, after a normal
 * exit and after a timeout); a configuration mistake fails the run at once, whatever the retry rules say.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, cli, job, makeProject, runs, spawns, sql, startEngine, waitFor } from './harness.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) cleanup(d);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a grandchild that ignores SIGTERM (its pid in gc.pid), then does what `$1` says. */
const FORK = `sh -c 'trap "" TERM; exec sleep 30' &
echo $! > gc.pid
if [ "$1" = wait ]; then sleep 30; fi
exit 0
`;

const RETRY = `retry: { maxAttempts: 3, backoff: { minDelay: '100ms', maxDelay: '200ms', factor: 2, jitter: 0 } }`;

describe('attempts survive the engine and leave nothing behind', () => {
  it('records an exit that happened while the engine was dead (kill -9) as it happened, with one spawn', async () => {
    const dir = makeProject('exitfile', { slow: job('slow', RETRY) });
    dirs.push(dir);
    let engine = await startEngine(dir);
    expect(cli(dir, ['invoke', 'slow', '--payload', '{"sleepMs":1500}']).code).toBe(0);
    await waitFor(() => spawns(dir).some((s) => s.what === 'start'));
    engine.proc.kill('SIGKILL');
    await engine.exited;
    // The child finishes while no engine runs.
    await waitFor(() => spawns(dir).some((s) => s.what === 'end'), 10_000);
    engine = await startEngine(dir);
    try {
      const [run] = await waitFor(() => {
        const r = runs(dir, 'slow');
        return r[0]?.status === 'succeeded' && r;
      }, 15_000);
      expect(run?.attempt).toBe(1);
      const attempts = sql<{ outcome: string }>(
        dir,
        'SELECT outcome FROM attempts WHERE run_id = ?',
        run?.run_id,
      );
      expect(attempts.map((a) => a.outcome)).toEqual(['succeeded']);
      expect(spawns(dir).filter((s) => s.what === 'start')).toHaveLength(1);
      // The exit file did its job and is gone.
      expect(readdirSync(join(dir, '.berth/exits'))).toEqual([]);
    } finally {
      await engine.stop();
    }
  }, 60_000);

  it('adopts an attempt still running at a restart and records how it ends (a failure too)', async () => {
    const dir = makeProject('adopt', { slow: job('slow', `retry: { maxAttempts: 1 }`) });
    dirs.push(dir);
    let engine = await startEngine(dir);
    expect(
      cli(dir, ['invoke', 'slow', '--payload', '{"sleepMs":8000,"failTimes":1,"exitCode":3}']).code,
    ).toBe(0);
    await waitFor(() => spawns(dir).some((s) => s.what === 'start'));
    engine.proc.kill('SIGKILL');
    await engine.exited;
    engine = await startEngine(dir);
    try {
      expect(spawns(dir).some((s) => s.what === 'end')).toBe(false);
      const [run] = await waitFor(() => {
        const r = runs(dir, 'slow');
        return r[0]?.status === 'failed' && r;
      }, 15_000);
      expect(run?.outcome).toBe('app_error');
      expect(run?.exit_code).toBe(3);
      await waitFor(() => readdirSync(join(dir, '.berth/exits')).length === 0, 5_000);
      expect(spawns(dir).filter((s) => s.what === 'start')).toHaveLength(1);
    } finally {
      await engine.stop();
    }
  }, 60_000);

  it('kills a grandchild that ignores SIGTERM when the task exits, and when the task times out', async () => {
    const dir = makeProject(
      'tree',
      {
        forks: `{ name: 'forks', task: { image: 'x', local: { command: ['sh', 'tasks/fork.sh', 'exit'] } }, retry: { maxAttempts: 1 } }`,
        hangs: `{ name: 'hangs', timeout: '1s', task: { image: 'x', local: { command: ['sh', 'tasks/fork.sh', 'wait'] } }, retry: { maxAttempts: 1 } }`,
      },
      { 'tasks/fork.sh': FORK, 'berth.dev.json': JSON.stringify({ stopGraceSeconds: 1 }) },
    );
    dirs.push(dir);
    const engine = await startEngine(dir);
    try {
      for (const [name, status] of [
        ['forks', 'succeeded'],
        ['hangs', 'timed_out'],
      ] as const) {
        const gcFile = join(dir, 'gc.pid');
        expect(cli(dir, ['invoke', name]).code).toBe(0);
        await waitFor(() => existsSync(gcFile) && readFileSync(gcFile, 'utf8').trim());
        const pid = Number(readFileSync(gcFile, 'utf8').trim());
        await waitFor(
          () => runs(dir, name)[0]?.status === status,
          15_000,
          () => JSON.stringify(runs(dir)),
        );
        // Once the attempt is recorded, nothing of its tree remains.
        expect(alive(pid), `grandchild ${pid} of ${name} still runs`).toBe(false);
        cleanup(gcFile);
      }
    } finally {
      await engine.stop();
    }
  }, 60_000);

  it('fails a run at once, with the fix, when the job cannot start locally — whatever its retry rules say', async () => {
    const rules = `retry: { maxAttempts: 3, rules: [{ onOutcome: 'start_failure', action: 'retry' }] }`;
    const dir = makeProject('config', {
      missing: `{ name: 'missing', task: { image: 'x', local: { command: ['berth-no-such-command-xyz'] } }, ${rules} }`,
      nocmd: `{ name: 'nocmd', task: { image: 'x' }, ${rules} }`,
    });
    dirs.push(dir);
    const engine = await startEngine(dir, { env: { PATH: process.env.PATH ?? '' } });
    try {
      expect(engine.output()).toMatch(/missing.*berth-no-such-command-xyz: command not found/);
      expect(engine.output()).toMatch(/nocmd.*no command to run locally/);
      expect(cli(dir, ['invoke', 'missing']).code).toBe(0);
      expect(cli(dir, ['invoke', 'nocmd']).code).toBe(0);
      const done = await waitFor(() => {
        const r = runs(dir);
        return r.length === 2 && r.every((x) => x.status === 'failed') && r;
      });
      const byJob = Object.fromEntries(done.map((r) => [r.job, r]));
      expect(byJob.missing?.attempt).toBe(1);
      expect(byJob.missing?.outcome).toBe('start_failure');
      expect(byJob.missing?.reason).toMatch(/command not found .*fix task\.local\.command of .*missing\.ts/);
      expect(byJob.nocmd?.attempt).toBe(1);
      expect(byJob.nocmd?.reason).toMatch(/no command to run locally — add task\.local\.command/);
      // A job saved while berth dev runs is checked the same way, at once.
      writeFileSync(
        join(dir, 'jobs/later.ts'),
        `import { defineJob } from 'berth';\nexport default defineJob({ name: 'later', task: { image: 'x', local: { command: ['berth-missing-too'] } } });\n`,
      );
      await waitFor(
        () =>
          engine
            .output()
            .includes(
              '! cannot start later: berth: cannot start locally: berth-missing-too: command not found',
            ),
        15_000,
        () => engine.output(),
      );
    } finally {
      await engine.stop();
    }
  }, 60_000);
});
