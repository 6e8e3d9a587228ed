/**
 * Service-mode queue jobs under a real `berth dev`: the engine scales worker processes between minTasks and
 * maxTasks by the backlog rule, the workers (berth/worker) process every message through the engine's SQS
 * endpoint, and the pool scales back in after the cool-down.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkerPoolStatus } from '../../../src/runtime/local/workers.js';
import { type EngineProc, engineCredentials, makeProject, startEngine } from './harness.js';

/** Polls an async condition (the harness's waitFor is synchronous). */
async function until(
  fn: () => Promise<boolean> | boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const WORKER = `import { appendFileSync } from 'node:fs';
import { runWorker } from 'berth/worker';
await runWorker({
  waitTimeSeconds: 1,
  visibilityTimeout: '5s',
  log: () => {},
  handler: async (m) => {
    await new Promise((r) => setTimeout(r, 300));
    appendFileSync('done.log', process.env.BERTH_WORKER + ' ' + m.body + '\\n');
  },
});
`;

const JOB = `{
  name: 'mailer',
  trigger: { queue: { mode: 'service', service: { minTasks: 0, maxTasks: 3, backlogPerTask: 2, scaleInCooldown: '3s' } } },
  task: { image: 'node:22-alpine', local: { command: [process.execPath, '--import', 'tsx', 'tasks/worker.mjs'] } },
}`;

let engine: EngineProc | undefined;
afterAll(async () => {
  await engine?.stop();
});

async function workers(url: string): Promise<WorkerPoolStatus> {
  const res = await fetch(`${url}/api/workers`);
  const body = (await res.json()) as { workers: WorkerPoolStatus[] };
  const pool = body.workers[0];
  if (!pool) throw new Error('no worker pool');
  return pool;
}

describe('berth dev worker pool', () => {
  it('scales 0 → max with the backlog, processes every message once, and scales back to 0', async () => {
    const dir = makeProject('workers', { mailer: JOB }, { 'tasks/worker.mjs': WORKER });
    engine = await startEngine(dir);
    const url = engine.url;
    expect(await workers(url)).toMatchObject({
      job: 'mailer',
      minTasks: 0,
      maxTasks: 3,
      desired: 0,
      running: 0,
    });

    const sqs = new SQSClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: engineCredentials(dir),
    });
    const queueUrl = `${url}/123456789012/mailer`;
    for (let batch = 0; batch < 2; batch++) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Array.from({ length: 10 }, (_, i) => ({
            Id: `m${i}`,
            MessageBody: `msg-${batch * 10 + i}`,
          })),
        }),
      );
    }
    sqs.destroy();

    // 20 visible ÷ 2 per worker = 10, capped at maxTasks 3.
    await until(
      async () => (await workers(url)).running === 3,
      20_000,
      () => engine?.output() ?? '',
    );
    const done = () => readFileSync(join(dir, 'done.log'), 'utf8').trim().split('\n');
    await until(
      () => {
        try {
          return done().length >= 20;
        } catch {
          return false;
        }
      },
      30_000,
      () => engine?.output() ?? '',
    );
    const lines = done();
    const bodies = lines.map((l) => l.split(' ')[1]).sort();
    expect(bodies).toEqual(Array.from({ length: 20 }, (_, i) => `msg-${i}`).sort());
    // Several worker processes shared the work.
    expect(new Set(lines.map((l) => l.split(' ')[0])).size).toBeGreaterThan(1);

    // Empty queue: after the 3 s cool-down the pool drains its workers and returns to minTasks 0.
    await until(
      async () => {
        const w = await workers(url);
        return w.desired === 0 && w.running === 0;
      },
      20_000,
      () => engine?.output() ?? '',
    );
    const history = (await workers(url)).history.map((h) => h.workers);
    expect(history[0]).toBe(0);
    expect(Math.max(...history)).toBe(3);
    expect(history[history.length - 1]).toBe(0);
    expect(engine.output()).toMatch(/mailer: 0 → 3 workers/);
    // No one-off runs: service-mode messages go to the workers, not to the launcher.
    expect(engine.output()).not.toMatch(/mailer.*attempt/);
  });
});
