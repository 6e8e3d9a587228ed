import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_JOBS, FakeEngine, makeAttempt, makeRun } from './fakeEngine.js';
import { type Harness, readEvents, startHarness } from './harness.js';

const NOW = new Date('2026-11-26T12:00:00.000Z');
const logDir = join(process.cwd(), '.tmp', `dashboard-events-${process.pid}`);
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

let engine: FakeEngine;
let h: Harness;

beforeEach(async () => {
  engine = new FakeEngine(EXAMPLE_JOBS, logDir, () => NOW);
  h = await startHarness(engine, { token: 't', now: () => NOW });
});
afterEach(async () => {
  await h.close();
});

type Ev = { event: string; data: Record<string, unknown> };

describe('/api/events', () => {
  it('sends a rendered row for a run that matches the page filter, and a removal when it stops matching', async () => {
    const run = makeRun({ job: 'thumbnail', status: 'running', createdAt: NOW.toISOString() });
    const got = await readEvents(
      h.port,
      '/api/events?view=runs&job=thumbnail&status=running',
      (events) => events.length >= 2,
      {
        onOpen: () => {
          engine.put(makeRun({ job: 'nightly-report', status: 'running' })); // another job: nothing
          engine.put(run);
          // A second change inside the coalescing window replaces the first.
          setTimeout(() => engine.put({ ...run, attempt: 2, status: 'running' }), 10);
          setTimeout(() => engine.put({ ...run, attempt: 2, status: 'failed' }), 300);
        },
      },
    );
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const events = got.events as Ev[];
    expect(events[0]?.event).toBe('run');
    expect(events[0]?.data.runId).toBe(run.runId);
    expect(events[0]?.data.html).toContain(`<tr id="run-${run.runId}"`);
    expect(events[0]?.data.html).toContain('<td>2/3</td>');
    expect(events[1]?.data).toEqual({ runId: run.runId, remove: true });
  });

  it('escapes run data inside the rendered fragments', async () => {
    const got = await readEvents(h.port, '/api/events?view=runs', (events) => events.length >= 1, {
      onOpen: () =>
        engine.put(
          makeRun({
            job: 'thumbnail',
            trigger: {
              kind: 's3',
              bucket: 'uploads',
              key: '<img src=x onerror=alert(1)>.jpg',
              size: 1,
              time: '',
            },
          }),
        ),
    });
    const html = (got.events[0] as Ev).data.html as string;
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;.jpg');
    expect(html).not.toContain('<img');
  });

  it('sends the run detail and a log panel per attempt for the run page', async () => {
    const run = engine.put(makeRun({ job: 'thumbnail', status: 'queued' }), []);
    const got = await readEvents(
      h.port,
      `/api/events?view=run&run=${run.runId}`,
      (events) => events.length >= 1,
      {
        onOpen: () => {
          engine.put(makeRun({ job: 'thumbnail' })); // another run: ignored
          engine.attempts.set(run.runId, [
            makeAttempt({ runId: run.runId, attempt: 1, outcome: 'app_error', exitCode: 3 }),
            makeAttempt({
              runId: run.runId,
              attempt: 2,
              status: 'running',
              outcome: null,
              stoppedAt: null,
              durationMs: null,
            }),
          ]);
          engine.put({ ...run, status: 'running', attempt: 2 });
        },
      },
    );
    const detail = (got.events[0] as Ev).data;
    expect((got.events[0] as Ev).event).toBe('detail');
    expect(detail.html).toContain('2 of 3');
    expect(detail.html).toContain('<td>3</td>');
    expect(detail.attempts).toEqual([
      expect.objectContaining({ attempt: 1, ended: true, state: 'ended: app_error' }),
      expect.objectContaining({ attempt: 2, ended: false, state: 'live' }),
    ]);
    expect((detail.attempts as { html: string }[])[1]?.html).toContain(
      `/api/runs/${run.runId}/attempts/2/log`,
    );
  });

  it('redraws the run page when a replay of the run appears', async () => {
    const run = engine.put(makeRun({ job: 'thumbnail', status: 'failed' }), []);
    let replayId = '';
    const got = await readEvents(
      h.port,
      `/api/events?view=run&run=${run.runId}`,
      (events) => events.length >= 1,
      {
        onOpen: () => {
          void engine.replay(run.runId).then((r) => {
            if (r.status !== 'skipped') replayId = r.runId;
          });
        },
      },
    );
    expect((got.events[0] as Ev).event).toBe('detail');
    expect(replayId).toMatch(/^r\d{20}$/);
    expect((got.events[0] as Ev).data.html).toContain(
      `<dt>Replayed as</dt><dd data-field="replayed-as"><a href="/runs/${replayId}">`,
    );
  });

  it('sends updated job numbers for the jobs page', async () => {
    engine.queues.set('thumbnail', { visible: 7, inFlight: 0, delayed: 0, deadLetter: 1 });
    const got = await readEvents(h.port, '/api/events?view=jobs', (events) => events.length >= 1, {
      onOpen: () => engine.put(makeRun({ job: 'thumbnail', status: 'failed' })),
    });
    expect((got.events[0] as Ev).data.job).toBe('thumbnail');
    expect((got.events[0] as Ev).data.html).toContain('<span data-stat="visible">7</span>');
    // The job page's Redrive of the queue's dead letters comes along, with the count it will move.
    expect((got.events[0] as Ev).data.deadLetters).toContain('data-post="/api/jobs/thumbnail/redrive"');
    expect((got.events[0] as Ev).data.deadLetters).toContain('>Redrive 1 dead letter</button>');
  });

  it('sends the job page its row and its recent-runs rows, for that job only', async () => {
    const failed = engine.put(makeRun({ job: 'thumbnail', status: 'failed', deadLettered: true }));
    const got = await readEvents(
      h.port,
      '/api/events?view=job&job=thumbnail',
      (events) => events.some((e) => e.event === 'run' && (e as Ev).data.runId !== failed.runId),
      {
        onOpen: () => {
          engine.put(makeRun({ job: 'email-sender', status: 'running' }));
          engine.put(makeRun({ job: 'thumbnail', status: 'running', replayOf: failed.runId }));
        },
      },
    );
    const events = got.events as Ev[];
    expect(events.find((e) => e.event === 'job')?.data.job).toBe('thumbnail');
    const runs = events.filter((e) => e.event === 'run');
    // The replay's row, and its original redrawn without the dead-lettered badge; nothing of email-sender.
    expect(runs.map((e) => e.data.runId)).toEqual([failed.runId, expect.stringMatching(/^r/)]);
    expect(runs[0]?.data.html).not.toContain('dead-lettered');
    expect(runs[1]?.data.html).toContain('data-status="running"');
    // The job page's rows have no job column.
    expect(runs[1]?.data.html).not.toContain('<td>thumbnail</td>');
  });

  it('unsubscribes from the engine when the page goes away', async () => {
    await readEvents(h.port, '/api/events?view=runs', () => true, {
      onOpen: () => engine.put(makeRun({ job: 'thumbnail' })),
    });
    for (let i = 0; i < 50 && engine.listenerCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(engine.listenerCount).toBe(0);
  });
});
