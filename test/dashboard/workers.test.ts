import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stepPaths, workerPanel, workerSeries } from '../../src/dashboard/views/workers.js';
import type { WorkerPoolStatus } from '../../src/runtime/local/api.js';
import { EXAMPLE_JOBS, FakeEngine, SERVICE_JOB } from './fakeEngine.js';
import { type Harness, raw, readEvents, startHarness } from './harness.js';

const NOW = new Date('2026-11-26T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

function pool(over: Partial<WorkerPoolStatus> = {}): WorkerPoolStatus {
  return {
    job: 'email-sender',
    minTasks: 0,
    maxTasks: 10,
    backlogPerTask: 20,
    desired: 3,
    running: 3,
    history: [
      { at: ago(20 * 60_000), workers: 0, visible: 0 },
      { at: ago(10 * 60_000), workers: 1, visible: 5 },
      { at: ago(5 * 60_000), workers: 3, visible: 55 },
    ],
    ...over,
  };
}

describe('worker series and chart', () => {
  it('cuts the history to the last 15 minutes and carries the count from before the window', () => {
    const s = workerSeries(pool(), NOW);
    expect(s.to - s.from).toBe(15 * 60_000);
    // At the window start (15 min ago) the pool had 0 workers: the point from 20 min ago, moved to the edge.
    expect(s.steps).toEqual([
      { at: NOW.getTime() - 15 * 60_000, workers: 0 },
      { at: NOW.getTime() - 10 * 60_000, workers: 1 },
      { at: NOW.getTime() - 5 * 60_000, workers: 3 },
    ]);
    expect([s.low, s.high]).toEqual([0, 3]);
  });

  it('gives a pool that just started a one-minute window, and a pool without history its wanted count', () => {
    const young = workerSeries(pool({ history: [{ at: ago(5000), workers: 2, visible: 30 }] }), NOW);
    expect(young.to - young.from).toBe(60_000);
    expect(young.steps).toEqual([{ at: NOW.getTime() - 5000, workers: 2 }]);
    const empty = workerSeries(pool({ history: [], desired: 4 }), NOW);
    expect(empty.steps).toEqual([{ at: empty.from, workers: 4 }]);
    expect([empty.low, empty.high]).toEqual([4, 4]);
  });

  it('draws steps scaled to maxTasks: horizontal then vertical moves, ending at the right edge', () => {
    const s = workerSeries(pool(), NOW);
    const { line, area } = stepPaths(s, 10);
    // 0 workers sit on the bottom line (48 - 3), 10 would touch the top (3); x: 0, 80, 160 of 240.
    expect(line).toBe('M0.0 45.0 H80.0 V40.8 H160.0 V32.4 H240');
    expect(area).toBe(`${line} V48 H0.0 Z`);
  });

  it('renders the count, the range and a chart with a text alternative', () => {
    const out = workerPanel(pool(), NOW).value;
    expect(out).toContain('<span data-stat="workers">3</span> running · 3 wanted');
    expect(out).toContain('range <span data-stat="worker-range">0–10</span>');
    expect(out).toMatch(
      /<svg class="sparkline"[^>]* role="img" aria-labelledby="workers-email-sender-title"/,
    );
    expect(out).toContain(
      '<title id="workers-email-sender-title">Workers of email-sender over the last 15m: 3 now, between 0 and 3 workers; it scales between 0 and 10.</title>',
    );
    expect(out).toContain('d="M0.0 45.0 H80.0 V40.8 H160.0 V32.4 H240"');
  });

  it('says when the count held steady', () => {
    const out = workerPanel(
      pool({ desired: 1, running: 1, history: [{ at: ago(30 * 60_000), workers: 1, visible: 0 }] }),
      NOW,
    ).value;
    expect(out).toContain('1 now, steady at 1 worker;');
  });
});

const logDir = join(process.cwd(), '.tmp', `dashboard-workers-${process.pid}`);
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

describe('worker fleet on the jobs page', () => {
  let engine: FakeEngine;
  let h: Harness;
  beforeEach(async () => {
    engine = new FakeEngine([...EXAMPLE_JOBS, SERVICE_JOB], logDir, () => NOW);
    engine.pools = [pool()];
    h = await startHarness(engine, { token: 't', now: () => NOW });
  });
  afterEach(async () => {
    await h.close();
  });

  it('shows the fleet on the service-mode job only, and the service path', async () => {
    const res = await raw(h.port, { path: '/jobs/email-sender' });
    expect(res.status).toBe(200);
    const service = res.body;
    expect(service).toContain('<h3>Worker fleet</h3>');
    expect(service).toContain('data-job-workers="email-sender"');
    expect(service).toContain('<span data-stat="workers">3</span> running');
    expect(service).toContain('0–10 workers polling its own queue');
    expect(service).toContain('<span class="step">Workers</span>');
    expect(service).toContain('runs until scaled in');
    expect(service).not.toContain('Launch queue');
    // The jobs table counts the workers in the queue column.
    const jobs = await raw(h.port, { path: '/' });
    expect(jobs.body).toContain('<span data-stat="workers">3 workers</span> (0–10)');
    const thumbnail = (await raw(h.port, { path: '/jobs/thumbnail' })).body;
    expect(thumbnail).not.toContain('Worker fleet');
    expect(thumbnail).toContain('<span class="step">Launch queue</span>');
  });

  it('lists the pool in GET /api/jobs', async () => {
    const res = await raw(h.port, { path: '/api/jobs' });
    const jobs = JSON.parse(res.body) as { name: string; workers?: WorkerPoolStatus }[];
    expect(jobs.find((j) => j.name === 'email-sender')?.workers).toEqual(pool());
    expect(jobs.find((j) => j.name === 'thumbnail')).not.toHaveProperty('workers');
  });

  it('sends a new chart over SSE when the worker count changes', async () => {
    const got = await readEvents(
      h.port,
      '/api/events?view=jobs',
      (events) => events.filter((e) => e.event === 'workers').length >= 2,
      {
        timeoutMs: 5000,
        onOpen: () =>
          setTimeout(() => {
            const before = engine.pools[0] as WorkerPoolStatus;
            engine.pools = [
              {
                ...before,
                desired: 4,
                running: 4,
                history: [...before.history, { at: ago(1000), workers: 4, visible: 70 }],
              },
            ];
          }, 200),
      },
    );
    const workers = got.events.filter((e) => e.event === 'workers') as {
      data: { job: string; html: string };
    }[];
    expect(workers[0]?.data.job).toBe('email-sender');
    expect(workers[0]?.data.html).toContain('<span data-stat="workers">3</span>');
    expect(workers[1]?.data.html).toContain('<span data-stat="workers">4</span>');
    expect(workers[1]?.data.html).toContain('4 now, between 0 and 4 workers');
  });
});
