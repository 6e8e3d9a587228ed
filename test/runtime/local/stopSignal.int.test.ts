/**
 * When berth stops a task it says so in the task's log: `berth: sent SIGTERM (<why>)`, and
 * `berth: sent SIGKILL (…)` when the task outlives the grace period. A real `berth dev`, a task that ignores
 * SIGTERM and runs past its timeout.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendLogLine } from '../../../src/runtime/local/launcher.js';
import { cleanup, cli, makeProject, runs, startEngine, waitFor } from './harness.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) cleanup(d);
});

/** Prints a line, then keeps running through SIGTERM (noting it) until SIGKILL. */
const STUBBORN = `echo started
trap 'echo got TERM' TERM
while :; do sleep 0.1; done
`;

describe('the stop signal in the log', () => {
  it('writes SIGTERM with the reason, then SIGKILL after the grace, into the attempt log', async () => {
    const dir = makeProject(
      'stopsignal',
      {
        stubborn: `{ name: 'stubborn', timeout: '1s', task: { image: 'x', local: { command: ['sh', 'tasks/stubborn.sh'] } }, retry: { maxAttempts: 1 } }`,
      },
      { 'tasks/stubborn.sh': STUBBORN, 'berth.dev.json': JSON.stringify({ stopGraceSeconds: 1 }) },
    );
    dirs.push(dir);
    const engine = await startEngine(dir);
    try {
      expect(cli(dir, ['invoke', 'stubborn']).code).toBe(0);
      const run = await waitFor(
        () => runs(dir, 'stubborn').find((r) => r.status === 'timed_out'),
        20_000,
        () => JSON.stringify(runs(dir)),
      );
      const log = readFileSync(join(dir, '.berth/logs', `${run.run_id}.1.log`), 'utf8');
      const lines = log.split('\n');
      const term = lines.indexOf('berth: sent SIGTERM (timeout: ran longer than 1s)');
      const kill = lines.indexOf('berth: sent SIGKILL (still running 1s after SIGTERM)');
      expect(lines.indexOf('started'), log).toBeGreaterThan(0);
      expect(term, log).toBeGreaterThan(lines.indexOf('started'));
      expect(kill, log).toBeGreaterThan(term);
      // The task saw the SIGTERM between the two.
      expect(lines.indexOf('got TERM'), log).toBeGreaterThan(term);
    } finally {
      await engine.stop();
    }
  }, 60_000);

  it('puts the line on a line of its own after output without a line break, and never throws', () => {
    const dir = makeProject('stopline', {});
    dirs.push(dir);
    const file = join(dir, 'a.log');
    appendLogLine(file, 'berth: first');
    expect(readFileSync(file, 'utf8')).toBe('berth: first\n');
    appendFileSync(file, 'progress 50%');
    appendLogLine(file, 'berth: sent SIGTERM (cancelled from the dashboard)');
    expect(readFileSync(file, 'utf8')).toBe(
      'berth: first\nprogress 50%\nberth: sent SIGTERM (cancelled from the dashboard)\n',
    );
    expect(() => appendLogLine(join(dir, 'no', 'such', 'folder', 'x.log'), 'berth: x')).not.toThrow();
  });
});
