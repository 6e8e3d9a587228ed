/**
 * A source without `subscribe` (the contract allows it): each open page polls `listRuns` every `POLL_MS` and
 * gets a rendered update for every run whose `updatedAt` moved — none for runs that did not change.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { POLL_MS } from '../../src/dashboard/events.js';
import type { DashboardSource } from '../../src/dashboard/source.js';
import { EXAMPLE_JOBS, FakeEngine, makeRun } from './fakeEngine.js';
import { type Harness, readEvents, startHarness } from './harness.js';

const NOW = new Date('2026-11-26T12:00:00.000Z');
const logDir = join(process.cwd(), '.tmp', `dashboard-poll-${process.pid}`);
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

let engine: FakeEngine;
let h: Harness;
let listCalls = 0;

/** The fake engine with every method but `subscribe`. */
function withoutSubscribe(e: FakeEngine): DashboardSource {
  return {
    jobs: () => e.jobs(),
    nextFireTimes: (job, count) => e.nextFireTimes(job, count),
    queueStats: (job) => e.queueStats(job),
    listRuns: (filter) => {
      listCalls++;
      return e.listRuns(filter);
    },
    getRun: (id) => e.getRun(id),
    listAttempts: (id) => e.listAttempts(id),
    readLog: (id, attempt, options) => e.readLog(id, attempt, options),
    invoke: (job, payload, options) => e.invoke(job, payload, options),
    replay: (id) => e.replay(id),
    replayFailed: (job) => e.replayFailed(job),
    cancel: (id) => e.cancel(id),
    redrive: (id) => e.redrive(id),
  };
}

beforeEach(async () => {
  engine = new FakeEngine(EXAMPLE_JOBS, logDir, () => NOW);
  listCalls = 0;
  h = await startHarness(withoutSubscribe(engine), { token: 't', now: () => NOW });
});
afterEach(async () => {
  await h.close();
});

describe('/api/events over a source without subscribe', () => {
  it('polls listRuns and sends the runs that changed, not the others', async () => {
    const quiet = engine.put(
      makeRun({ job: 'thumbnail', status: 'succeeded', createdAt: NOW.toISOString() }),
    );
    const busy = engine.put(makeRun({ job: 'thumbnail', status: 'running', createdAt: NOW.toISOString() }));
    const started = Date.now();
    const got = await readEvents(
      h.port,
      '/api/events?view=runs&job=thumbnail',
      (events) => events.length >= 1,
      {
        timeoutMs: POLL_MS * 2 + 2000,
        onOpen: () => {
          // After the first poll (the baseline), the busy run ends.
          setTimeout(() => {
            engine.put({
              ...busy,
              status: 'failed',
              updatedAt: new Date(NOW.getTime() + 1000).toISOString(),
            });
          }, 500);
        },
      },
    );
    const events = got.events as { event: string; data: { runId: string; html?: string } }[];
    expect(events.map((e) => e.data.runId)).toEqual([busy.runId]);
    expect(events[0]?.data.html).toContain('failed');
    expect(events.some((e) => e.data.runId === quiet.runId)).toBe(false);
    // It came with the next poll, not at once.
    expect(Date.now() - started).toBeGreaterThanOrEqual(POLL_MS - 100);
    expect(listCalls).toBeGreaterThanOrEqual(2);
  }, 20_000);
});
