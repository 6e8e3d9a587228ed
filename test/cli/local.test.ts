/** Bad input to the local commands: a clear error on stderr, exit 1, and no state lost. */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  cli,
  freePort,
  job,
  makeProject,
  runs,
  sql,
  startEngine,
} from '../runtime/local/harness.js';

describe('berth send / invoke / put / runs / dev: bad input', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeProject('cli-bad', {
      orders: job('orders', `trigger: { queue: {} }`),
      pics: job('pics', `trigger: { s3: { bucket: 'uploads' } }`),
    });
  });
  afterAll(() => cleanup(dir));

  it('rejects a non-JSON send body and keeps the messages already queued', () => {
    expect(cli(dir, ['send', 'orders', '{"orderId":1}']).code).toBe(0);
    const bad = cli(dir, ['send', 'orders', '{orderId:1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/<json>: not valid JSON .* — quote it for the shell/);
    expect(sql(dir, `SELECT 1 FROM messages WHERE queue = 'job:orders'`)).toHaveLength(1);
  });

  it('names the known jobs for an unknown job, and says when a job has no queue', () => {
    const r = cli(dir, ['send', 'nope', '{}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nope: no such job — known jobs: orders, pics');
    const p = cli(dir, ['send', 'pics', '{}']);
    expect(p.stderr).toContain(
      `job 'pics' has no queue trigger — add trigger.queue, or use berth invoke pics`,
    );
    expect(cli(dir, ['invoke', 'nope']).stderr).toContain('nope: no such job');
    expect(cli(dir, ['invoke', 'pics', '--payload', 'x']).stderr).toContain('--payload: not valid JSON');
  });

  it('put: refuses a bucket no job listens to and a missing file; puts atomically otherwise', () => {
    const src = join(dir, 'tasks/rec.mjs');
    expect(cli(dir, ['put', 'other', src]).stderr).toContain(
      'other: no job listens to this bucket — buckets with jobs: uploads',
    );
    expect(cli(dir, ['put', 'uploads', join(dir, 'missing.jpg')]).stderr).toContain(
      'missing.jpg: no such file',
    );
    expect(cli(dir, ['put', 'uploads', src, '--key', '../escape']).stderr).toContain('is not a valid key');
    const ok = cli(dir, ['put', 'uploads', src, '--key', 'a/b.mjs']);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(join(dir, '.berth/buckets/uploads/a/b.mjs'));
  });

  it('runs: unknown run, bad status, and --stage without the AWS runtime', () => {
    expect(cli(dir, ['runs', 'show', 'rnope']).stderr).toContain('rnope: no such run');
    expect(cli(dir, ['runs', 'list', '--status', 'done']).stderr).toContain('"done" is not a run status');
    // A typo in --job must not read as "no runs": it names the known jobs. A known job without runs is fine.
    const unknownJob = cli(dir, ['runs', 'list', '--job', 'nope']);
    expect(unknownJob.code).toBe(1);
    expect(unknownJob.stderr).toContain(
      "--job: no job named 'nope' in jobs/ and no runs of it — known jobs: orders, pics",
    );
    const known = cli(dir, ['runs', 'list', '--job', 'pics', '--json']);
    expect(known.code).toBe(0);
    expect(JSON.parse(known.stdout)).toEqual([]);
    const stage = cli(dir, ['runs', 'list', '--stage', 'dev']);
    expect(stage.code).toBe(1);
    // Dispatched to src/cli/stage.ts (or a clear "not available" error without it); never a stack.
    expect(stage.stderr).toMatch(/--stage|--service/);
    expect(stage.stderr).not.toMatch(/\n\s+at /);
  });

  it('dev: a port in use is a clear error and the queued message survives', async () => {
    const port = await freePort();
    const blocker = createServer().listen(port, '127.0.0.1');
    try {
      const e = await startEngine(dir, { port, waitReady: false });
      const exit = await e.exited;
      expect(exit.code).toBe(1);
      expect(e.output()).toContain(
        `port ${port} on 127.0.0.1 is in use — stop what uses it or pass --port <another>`,
      );
    } finally {
      blocker.close();
    }
    expect(sql(dir, `SELECT 1 FROM messages WHERE queue = 'job:orders'`)).toHaveLength(1);
    // Now the engine can start and runs the message.
    const engine = await startEngine(dir);
    try {
      const until = Date.now() + 15_000;
      while (runs(dir, 'orders')[0]?.status !== 'succeeded' && Date.now() < until)
        await new Promise((r) => setTimeout(r, 100));
      expect(runs(dir, 'orders')[0]?.status).toBe('succeeded');
    } finally {
      await engine.stop();
    }
  });

  it('dev: refuses a corrupt .berth/dev.db with a message', async () => {
    const other = makeProject('cli-corrupt', { a: job('a', '') });
    try {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(other, '.berth'), { recursive: true });
      writeFileSync(join(other, '.berth/dev.db'), 'garbage '.repeat(1000));
      const e = await startEngine(other, { waitReady: false });
      expect((await e.exited).code).toBe(1);
      expect(e.output()).toContain(
        'dev.db: is not a SQLite database or is corrupt — move it away or delete it',
      );
    } finally {
      cleanup(other);
    }
  });
});
