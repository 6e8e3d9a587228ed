/**
 * Crash safety with real `kill -9`s of a real engine: at each crash point (the engine SIGKILLs itself there,
 * exactly like `kill -9`), and at random moments from outside. After a restart no accepted trigger is lost
 * and no attempt of a run is launched twice. Also: dead-letter after max receives, schedules' catch-up and
 * overlap skip.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CRASH_POINTS } from '../../../src/runtime/local/faults.js';
import {
  cleanup,
  cli,
  job,
  makeProject,
  runs,
  spawns,
  sql,
  sqsCall,
  startEngine,
  waitFor,
} from './harness.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) cleanup(d);
});

function noAttemptTwice(dir: string): void {
  const starts = spawns(dir).filter((s) => s.what === 'start');
  const keys = starts.map((s) => `${s.runId}#${s.attempt}`);
  expect(new Set(keys).size).toBe(keys.length);
}

describe('kill -9 of the engine', () => {
  it('loses no accepted trigger and launches no attempt twice, at every crash point', async () => {
    const dir = makeProject('crash', {
      q: job(
        'q',
        `trigger: { queue: { visibilityTimeout: '1s', maxReceiveCount: 50 } }, retry: { maxAttempts: 5, backoff: { minDelay: '200ms', maxDelay: '1s', factor: 2, jitter: 0 } }`,
      ),
    });
    dirs.push(dir);
    let sent = 0;
    for (const point of CRASH_POINTS) {
      const armed = await startEngine(dir, { env: { BERTH_DEV_CRASH_AT: point } });
      expect(cli(dir, ['send', 'q', JSON.stringify({ sleepMs: 300, point })]).code).toBe(0);
      sent++;
      const exit = await Promise.race([
        armed.exited,
        new Promise<'alive'>((r) => setTimeout(() => r('alive'), 15_000)),
      ]);
      expect(exit, `engine should have died at ${point}\n${armed.output()}`).toEqual({
        code: null,
        signal: 'SIGKILL',
      });
      const engine = await startEngine(dir);
      try {
        await waitFor(
          () => {
            const r = runs(dir, 'q');
            return r.length === sent && r.every((x) => x.status === 'succeeded');
          },
          20_000,
          () => `${point}: ${JSON.stringify(runs(dir, 'q'), null, 1)}\n${engine.output()}`,
        );
      } finally {
        await engine.stop();
      }
      noAttemptTwice(dir);
    }
    // The attempts cut short by a crash were recorded as lost, then retried.
    const lost =
      sql<{ n: number }>(dir, `SELECT COUNT(*) AS n FROM attempts WHERE outcome = 'lost'`)[0]?.n ?? 0;
    expect(lost).toBeGreaterThanOrEqual(2);
  }, 240_000);

  it('survives kill -9 from outside at random moments under load', async () => {
    const dir = makeProject('crash-random', {
      q: job(
        'q',
        `trigger: { queue: { batchSize: 10, visibilityTimeout: '1s' } }, retry: { maxAttempts: 10, backoff: { minDelay: '100ms', maxDelay: '500ms', factor: 2, jitter: 0 } }`,
      ),
    });
    dirs.push(dir);
    let sent = 0;
    for (let round = 0; round < 4; round++) {
      const engine = await startEngine(dir);
      const res = await sqsCall(engine.url, dir, 'SendMessageBatch', {
        QueueUrl: `${engine.url}/123456789012/q`,
        Entries: Array.from({ length: 8 }, (_, i) => ({
          Id: `e${i}`,
          MessageBody: JSON.stringify({ sleepMs: 150, round, i }),
        })),
      });
      expect(res.status).toBe(200);
      sent += 8;
      await new Promise((r) => setTimeout(r, 30 + round * 120));
      engine.proc.kill('SIGKILL');
      await engine.exited;
    }
    const engine = await startEngine(dir);
    try {
      await waitFor(
        () => {
          const r = runs(dir, 'q');
          return r.length === sent && r.every((x) => x.status === 'succeeded');
        },
        30_000,
        () => JSON.stringify(runs(dir, 'q').filter((r) => r.status !== 'succeeded')),
      );
    } finally {
      await engine.stop();
    }
    noAttemptTwice(dir);
  }, 120_000);
});

describe('dead-letter queue', () => {
  it('moves a message that was received maxReceiveCount times without being accepted to the DLQ; redrive brings it back', async () => {
    const dir = makeProject('dlq', {
      poison: job('poison', `trigger: { queue: { visibilityTimeout: '1s', maxReceiveCount: 2 } }`),
    });
    dirs.push(dir);
    expect(cli(dir, ['send', 'poison', '{"n":1}']).code).toBe(0);
    // Each delivery crashes the engine before the message becomes a run (a poison message).
    for (let i = 0; i < 2; i++) {
      const e = await startEngine(dir, { env: { BERTH_DEV_CRASH_AT: 'after-receive' } });
      expect(await e.exited).toEqual({ code: null, signal: 'SIGKILL' });
    }
    const engine = await startEngine(dir);
    try {
      await waitFor(
        () =>
          sql<{ n: number }>(dir, `SELECT COUNT(*) AS n FROM messages WHERE queue = 'job:poison:dlq'`)[0]
            ?.n === 1,
        10_000,
      );
      expect(runs(dir, 'poison')).toHaveLength(0);
      const r = cli(dir, ['redrive', 'poison', '--json']);
      expect(JSON.parse(r.stdout)).toMatchObject({ messages: 1 });
      await waitFor(() => runs(dir, 'poison')[0]?.status === 'succeeded', 10_000);
    } finally {
      await engine.stop();
    }
  }, 60_000);
});

describe('schedules', () => {
  it('catches up one missed fire after downtime and skips a fire while a run is still active (overlap skip)', async () => {
    const dir = makeProject('sched', {
      catchup: job('catchup', `trigger: { schedule: { expression: 'rate(1 minute)' } }`),
      nightly: job(
        'nightly',
        `trigger: { schedule: [{ expression: 'rate(1 minute)', payload: { sleepMs: 6000 } }, { expression: 'rate(1 minute)', payload: { sleepMs: 6000 } }] }, overlap: 'skip'`,
      ),
    });
    dirs.push(dir);
    expect(cli(dir, ['runs', 'list']).code).toBe(1); // no database yet: a clear error
    expect(cli(dir, ['invoke', 'catchup']).code).toBe(0); // creates the database
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const seed = (jobName: string, id: string, anchor: number) =>
      sql(
        dir,
        'INSERT INTO schedules (job, schedule_id, expression, anchor, last_fire) VALUES (?, ?, ?, ?, ?)',
        jobName,
        id,
        'rate(1 minute) UTC',
        iso(anchor),
        iso(anchor),
      );
    seed('catchup', 'schedule-0', now - 10.5 * 60_000); // ten fires missed
    seed('nightly', 'schedule-0', now - 60_000 + 4000); // fires 4 s from now
    seed('nightly', 'schedule-1', now - 60_000 + 7000); // fires 7 s from now, while the first still runs
    const engine = await startEngine(dir);
    try {
      await waitFor(() => engine.output().includes(`skipped — overlap 'skip'`), 20_000, engine.output);
      const caught = sql<{ trigger: string }>(
        dir,
        `SELECT trigger FROM runs WHERE job = 'catchup' AND trigger_kind = 'schedule'`,
      );
      expect(caught).toHaveLength(1);
      expect(JSON.parse(caught[0]?.trigger ?? '{}').scheduledTime).toBe(
        iso(now - 10.5 * 60_000 + 10 * 60_000),
      );
      expect(sql(dir, `SELECT 1 FROM runs WHERE job = 'nightly'`)).toHaveLength(1);
    } finally {
      await engine.stop();
    }
  }, 60_000);
});
