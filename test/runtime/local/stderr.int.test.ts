/**
 * stderr set apart: `berth dev`'s attempt wrapper marks each line a task writes to stderr, in order with its
 * stdout, so the dashboard shows it apart; `berth runs logs` prints the lines without the mark. Also the reader's
 * rules for the mark (src/runtime/logs.ts).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { groupAlive, WRAPPER } from '../../../src/runtime/local/launcher.js';
import { readLogFile, STDERR_MARK } from '../../../src/runtime/logs.js';
import { cleanup, cli, makeProject, runs, startEngine, waitFor } from './harness.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) cleanup(d);
});

/** stdout and stderr in turns, a pause between (so their order is the order written), then exit 3. */
const NOISY = `echo 'out one'
sleep 0.1
echo 'err one' >&2
sleep 0.1
echo 'out two'
sleep 0.1
printf 'err two, no line break' >&2
sleep 0.1
exit 3
`;

describe('stderr in the attempt log', () => {
  it('marks stderr lines in order with stdout, keeps the exit status, and berth runs logs prints them plainly', async () => {
    const dir = makeProject(
      'stderr',
      {
        noisy: `{ name: 'noisy', task: { image: 'x', local: { command: ['sh', 'tasks/noisy.sh'] } }, retry: { maxAttempts: 1 } }`,
      },
      { 'tasks/noisy.sh': NOISY },
    );
    dirs.push(dir);
    const engine = await startEngine(dir);
    try {
      expect(cli(dir, ['invoke', 'noisy']).code).toBe(0);
      const run = await waitFor(
        () => runs(dir, 'noisy').find((r) => r.status === 'failed'),
        20_000,
        () => JSON.stringify(runs(dir)),
      );
      // The wrapper passes the command's status through.
      expect(run.exit_code).toBe(3);
      const file = join(dir, '.berth/logs', `${run.run_id}.1.log`);
      const read = await readLogFile(file);
      expect(read.lines.map((l) => `${l.stream}: ${l.text}`).slice(1)).toEqual([
        'stdout: out one',
        'stderr: err one',
        'stdout: out two',
        'stderr: err two, no line break',
      ]);
      expect(read.lines[0]?.stream).toBe('berth');
      const logs = cli(dir, ['runs', 'logs', run.run_id]);
      expect(logs.code).toBe(0);
      expect(logs.stdout).toContain('out one\nerr one\nout two\nerr two, no line break\n');
      expect(logs.stdout).not.toContain(STDERR_MARK);
      expect(readFileSync(file, 'utf8')).toContain(`${STDERR_MARK}err one\n`);
      // The FIFO the wrapper read stderr from is gone.
      expect(readdirSync(join(dir, '.berth/exits')).filter((f) => f.endsWith('.err'))).toEqual([]);
    } finally {
      await engine.stop();
    }
  }, 60_000);

  it('reads a mark at the start of a line, and after output that had no line break', async () => {
    const dir = makeProject('stderr-read', {});
    dirs.push(dir);
    const file = join(dir, 'x.log');
    writeFileSync(
      file,
      `[berth] start\nplain\n${STDERR_MARK}oops\nprogress 50%${STDERR_MARK}warn\nberth: sent SIGTERM (x)\n`,
    );
    const read = await readLogFile(file);
    expect(read.lines).toEqual([
      { stream: 'berth', text: '[berth] start' },
      { stream: 'stdout', text: 'plain' },
      { stream: 'stderr', text: 'oops' },
      { stream: 'stdout', text: 'progress 50%' },
      { stream: 'stderr', text: 'warn' },
      { stream: 'berth', text: 'berth: sent SIGTERM (x)' },
    ]);
  });

  it('leaves nothing of the attempt behind when it exits: the wrapper reaps its stderr reader', async () => {
    // Left to a PID 1 that reaps nothing (this sandbox, a container without an init), an ended reader would
    // stay a zombie in the attempt's group, and the launcher would wait out the grace period for it.
    const dir = makeProject('stderr-reap', {});
    dirs.push(dir);
    for (let i = 0; i < 10; i++) {
      const child = spawn(
        '/bin/sh',
        ['-c', WRAPPER, 'berth-attempt', join(dir, `exit-${i}`), 'sh', '-c', 'echo e >&2'],
        {
          stdio: 'ignore',
          detached: true,
        },
      );
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
      expect(groupAlive(child.pid as number), `attempt ${i}: its process group outlived the wrapper`).toBe(
        false,
      );
    }
  });
});
