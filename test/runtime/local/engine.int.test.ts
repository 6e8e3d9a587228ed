/**
 * Integration: a real `berth dev` process per scenario, driven through bucket folders, `berth send`, the
 * SQS endpoint (with @aws-sdk/client-sqs) and `berth invoke`, observed through `.berth/dev.db`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  cli,
  type EngineProc,
  engineCredentials,
  job,
  makeProject,
  runs,
  spawns,
  sql,
  sqsCall,
  startEngine,
  waitFor,
} from './harness.js';

describe('berth dev (real engine process)', () => {
  let dir: string;
  let engine: EngineProc;

  beforeAll(async () => {
    dir = makeProject(
      'engine',
      {
        thumb: job('thumb', `trigger: { s3: { bucket: 'uploads', prefix: 'images/', suffix: '.jpg' } }`),
        flaky: job(
          'flaky',
          `trigger: { queue: { maxReceiveCount: 3 } }, retry: { maxAttempts: 3, backoff: { minDelay: '1s', maxDelay: '10s', factor: 2, jitter: 0 } }`,
        ),
        slow: job('slow', `timeout: '1s', retry: { maxAttempts: 1 }`),
        capped: job('capped', `trigger: { queue: { batchSize: 10 } }, maxConcurrency: 2`),
        broken: `{ name: 'broken', task: { image: 'x', local: { command: ['berth-no-such-command-xyz'] } } }`,
      },
      { 'berth.dev.json': JSON.stringify({ stopGraceSeconds: 1 }) },
    );
    engine = await startEngine(dir);
  }, 60_000);

  afterAll(async () => {
    await engine?.stop();
    cleanup(dir);
  });

  it('runs a job for a file written into its bucket folder, matching prefix and suffix', async () => {
    const folder = join(dir, '.berth/buckets/uploads');
    mkdirSync(join(folder, 'images'), { recursive: true });
    writeFileSync(join(folder, 'images/cat.jpg'), 'jpeg bytes');
    writeFileSync(join(folder, 'images/notes.txt'), 'no');
    writeFileSync(join(folder, 'other-cat.jpg'), 'no');
    expect(cli(dir, ['put', 'uploads', join(dir, 'tasks/rec.mjs'), '--key', 'images/dog.jpg']).code).toBe(0);
    const done = await waitFor(() => {
      const r = runs(dir, 'thumb');
      return r.length === 2 && r.every((x) => x.status === 'succeeded') && r;
    });
    expect(done).toHaveLength(2);
    const trig = sql<{ trigger: string }>(dir, `SELECT trigger FROM runs WHERE job = 'thumb'`).map((r) =>
      JSON.parse(r.trigger),
    );
    expect(trig.map((t) => t.key).sort()).toEqual(['images/cat.jpg', 'images/dog.jpg']);
    const cat = trig.find((t) => t.key === 'images/cat.jpg');
    expect(cat).toMatchObject({
      kind: 's3',
      bucket: 'uploads',
      size: 10,
      etag: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(cat.sequencer).toMatch(/^[0-9A-F]{16}$/);
    // Only the matching keys ran, once each.
    await new Promise((r) => setTimeout(r, 300));
    expect(runs(dir, 'thumb')).toHaveLength(2);
  });

  it('retries a failing queue message with exponential backoff, then succeeds', async () => {
    expect(cli(dir, ['send', 'flaky', '{"failTimes":2}']).code).toBe(0);
    const [run] = await waitFor(() => {
      const r = runs(dir, 'flaky');
      return r.length === 1 && r[0]?.status === 'succeeded' && r;
    }, 20_000);
    expect(run?.attempt).toBe(3);
    const s = spawns(dir).filter((x) => x.job === 'flaky');
    const start = (a: number) => s.find((x) => x.attempt === a && x.what === 'start')?.at ?? Number.NaN;
    const end = (a: number) => s.find((x) => x.attempt === a && x.what === 'end')?.at ?? Number.NaN;
    // minDelay 1s, factor 2, no jitter: ≥1s before attempt 2, ≥2s before attempt 3.
    expect(start(2) - end(1)).toBeGreaterThanOrEqual(950);
    expect(start(3) - end(2)).toBeGreaterThanOrEqual(1950);
    expect(start(3) - end(2)).toBeLessThan(4000);
  });

  it('times out an attempt: SIGTERM, then SIGKILL after the grace period, recorded timed_out', async () => {
    expect(cli(dir, ['invoke', 'slow', '--payload', '{"sleepMs":30000,"ignoreTerm":true}']).code).toBe(0);
    const [run] = await waitFor(() => {
      const r = runs(dir, 'slow');
      return r.length === 1 && r[0]?.status === 'timed_out' && r;
    }, 15_000);
    expect(run?.outcome).toBe('timed_out');
    expect(run?.reason).toMatch(/^berth: timeout/);
    const s = spawns(dir).filter((x) => x.job === 'slow');
    expect(s.map((x) => x.what)).toEqual(['start', 'sigterm']);
  });

  it('keeps at most maxConcurrency runs at once and runs them all', async () => {
    // One SQS batch, so all six are waiting at once.
    const res = await sqsCall(engine.url, dir, 'SendMessageBatch', {
      QueueUrl: `${engine.url}/123456789012/capped`,
      Entries: [0, 1, 2, 3, 4, 5].map((n) => ({
        Id: `m${n}`,
        MessageBody: JSON.stringify({ sleepMs: 500, n }),
      })),
    });
    expect(res.status).toBe(200);
    await waitFor(() => {
      const r = runs(dir, 'capped');
      return r.length === 6 && r.every((x) => x.status === 'succeeded');
    }, 30_000);
    const events = spawns(dir)
      .filter((x) => x.job === 'capped')
      .sort((a, b) => a.at - b.at || (a.what === 'end' ? -1 : 1));
    let live = 0;
    let max = 0;
    for (const e of events) {
      live += e.what === 'start' ? 1 : -1;
      max = Math.max(max, live);
    }
    expect(max).toBe(2);
  });

  it('records a command that does not exist as a start_failure, without retrying and without crashing', async () => {
    expect(cli(dir, ['invoke', 'broken']).code).toBe(0);
    const [run] = await waitFor(() => {
      const r = runs(dir, 'broken');
      return r.length === 1 && r[0]?.status === 'failed' && r;
    });
    expect(run?.outcome).toBe('start_failure');
    expect(run?.attempt).toBe(1);
    expect(engine.proc.exitCode).toBeNull();
  });

  it('accepts SendMessage and SendMessageBatch from @aws-sdk/client-sqs pointed at the endpoint', async () => {
    const sqs = new SQSClient({
      endpoint: engine.url,
      region: 'us-east-1',
      // The credential berth dev wrote at start (.berth/credentials, profile berth-dev).
      credentials: engineCredentials(dir),
    });
    try {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'capped' }));
      expect(QueueUrl).toBe(`${engine.url}/123456789012/capped`);
      const one = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"sdk":1}' }));
      expect(one.MessageId).toBeTruthy();
      const batch = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: [
            { Id: 'a', MessageBody: '{"sdk":2}' },
            { Id: 'b', MessageBody: '{"sdk":3}', DelaySeconds: 1 },
          ],
        }),
      );
      expect(batch.Successful?.map((s) => s.Id).sort()).toEqual(['a', 'b']);
      await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' }))).rejects.toBeInstanceOf(
        QueueDoesNotExist,
      );
      await waitFor(() => {
        const r = sql<{ trigger: string; status: string }>(
          dir,
          `SELECT trigger, status FROM runs WHERE job = 'capped'`,
        )
          .filter((x) => (JSON.parse(JSON.parse(x.trigger).body) as { sdk?: number }).sdk) // the body is stored once
          .filter((x) => x.status === 'succeeded');
        return r.length === 3;
      }, 15_000);
    } finally {
      sqs.destroy();
    }
  });

  it('streams outcome events as server-sent events', async () => {
    const controller = new AbortController();
    const res = await fetch(`${engine.url}/events`, { signal: controller.signal });
    const reader = res.body?.getReader();
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    cli(dir, ['invoke', 'thumb', '--payload', '{}']);
    let text = '';
    const until = Date.now() + 15_000;
    while (!text.includes('Job Run Succeeded') && Date.now() < until) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += Buffer.from(chunk.value).toString('utf8');
    }
    controller.abort();
    expect(text).toContain('"detail-type":"Job Run Started"');
    expect(text).toContain('"detail-type":"Job Run Succeeded"');
  });

  it('lists, shows and prints logs of runs with stable --json fields', () => {
    const list = JSON.parse(cli(dir, ['runs', 'list', '--job', 'flaky', '--json']).stdout);
    expect(list[0]).toMatchObject({
      job: 'flaky',
      status: 'succeeded',
      attempts: 3,
      outcome: 'succeeded',
      exitCode: 0,
    });
    for (const f of [
      'runId',
      'job',
      'status',
      'attempts',
      'trigger',
      'createdAt',
      'endedAt',
      'exitCode',
      'outcome',
    ]) {
      expect(list[0]).toHaveProperty(f);
    }
    const show = JSON.parse(cli(dir, ['runs', 'show', list[0].runId, '--json']).stdout);
    expect(show.attemptDetails.map((a: { outcome: string }) => a.outcome)).toEqual([
      'app_error',
      'app_error',
      'succeeded',
    ]);
    const logs = cli(dir, ['runs', 'logs', list[0].runId]).stdout;
    expect(logs).toContain('attempt 1');
    expect(logs).toContain('hello from flaky attempt 3');
    const failed = JSON.parse(cli(dir, ['runs', 'list', '--status', 'timed_out', '--json']).stdout);
    expect(failed.map((r: { job: string }) => r.job)).toEqual(['slow']);
    expect(list[0].replayOf).toBeNull();

    // A redrive is a new run that names the run it redrives; a second redrive finds it through that link.
    const from = failed[0].runId as string;
    const redriven = JSON.parse(cli(dir, ['redrive', from, '--json']).stdout);
    expect(redriven.runs).toEqual([
      { from, status: 'accepted', runId: expect.stringMatching(/^r[0-9a-z]{20}$/) },
    ]);
    const replayId = redriven.runs[0].runId as string;
    expect(JSON.parse(cli(dir, ['runs', 'show', replayId, '--json']).stdout).replayOf).toBe(from);
    expect(cli(dir, ['runs', 'show', replayId]).stdout).toContain(`replay of ${from}`);
    expect(cli(dir, ['runs', 'show', from]).stdout).not.toContain('replay of');
    expect(JSON.parse(cli(dir, ['redrive', from, '--json']).stdout).runs).toEqual([
      { from, status: 'already-redriven', runId: replayId },
    ]);
  });
});

describe('local subscribers', () => {
  it('runs defineSubscriber handlers from subscribers/ on outcome events', async () => {
    const dir = makeProject(
      'subs',
      { one: job('one', '') },
      {
        'subscribers/notify.ts': `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineSubscriber } from '../../../src/subscriber/index.ts';
export default defineSubscriber({ on: ['Job Run Succeeded'] }, async (event) => {
  writeFileSync(join(import.meta.dirname, '../subscriber.out'), event.detail.job + ' ' + event['detail-type']);
});
`,
      },
    );
    const engine = await startEngine(dir);
    try {
      expect(cli(dir, ['invoke', 'one']).code).toBe(0);
      const out = await waitFor(
        () => {
          try {
            return readFileSync(join(dir, 'subscriber.out'), 'utf8');
          } catch {
            return undefined;
          }
        },
        15_000,
        engine.output,
      );
      expect(out).toBe('one Job Run Succeeded');
    } finally {
      await engine.stop();
      cleanup(dir);
    }
  });
});
