import { describe, expect, it } from 'vitest';
import {
  costPerDay,
  durationPoints,
  lastDays,
  outcomesPerDay,
  quantile,
  replayedIds,
  stillDeadLettered,
  summarize,
  unreplayedFailures,
} from '../../src/dashboard/stats.js';
import type { RunRecord } from '../../src/runtime/ports.js';
import { job, makeAttempt, makeRun } from './fakeEngine.js';

const NOW = new Date('2026-11-26T12:00:00.000Z');

function ended(
  status: RunRecord['status'],
  createdAt: string,
  seconds: number,
  extra: Partial<RunRecord> = {},
) {
  return makeRun({
    job: 'j',
    status,
    createdAt,
    endedAt: new Date(Date.parse(createdAt) + seconds * 1000).toISOString(),
    ...extra,
  });
}

describe('quantile (nearest rank)', () => {
  it('is the smallest value with at least q of the values at or below it', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([7], 0.95)).toBe(7);
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2);
    const twenty = Array.from({ length: 20 }, (_, i) => (i + 1) * 10);
    expect(quantile(twenty, 0.95)).toBe(190);
    expect(quantile(twenty, 0.5)).toBe(100);
    expect(quantile([5, 1, 9], 1)).toBe(9);
  });
});

describe('summarize', () => {
  it('counts outcomes; the success rate leaves out cancelled and active runs; percentiles of ended runs', () => {
    const runs = [
      ended('succeeded', '2026-11-26T10:00:00.000Z', 10),
      ended('succeeded', '2026-11-26T09:00:00.000Z', 20),
      ended('succeeded', '2026-11-26T08:00:00.000Z', 30),
      ended('failed', '2026-11-26T07:00:00.000Z', 40),
      ended('timed_out', '2026-11-26T06:00:00.000Z', 300),
      ended('cancelled', '2026-11-26T05:00:00.000Z', 5),
      makeRun({ job: 'j', status: 'running', createdAt: '2026-11-26T11:59:00.000Z' }),
    ];
    const s = summarize(runs);
    expect(s).toMatchObject({ succeeded: 3, failed: 2, cancelled: 1, active: 1, finished: 6 });
    expect(s.successRate).toBeCloseTo(3 / 5);
    // Ended durations 5, 10, 20, 30, 40, 300 s: the median is the 3rd, the p95 the 6th.
    expect(s.p50Ms).toBe(20_000);
    expect(s.p95Ms).toBe(300_000);
  });

  it('has no rate or percentiles before any run ended', () => {
    const s = summarize([makeRun({ job: 'j', status: 'queued' })]);
    expect(s.successRate).toBeNull();
    expect(s.p50Ms).toBeNull();
    expect(summarize([ended('cancelled', '2026-11-26T05:00:00.000Z', 5)]).successRate).toBeNull();
  });
});

describe('replays', () => {
  it('a failed or dead-lettered run replayed by another no longer counts', () => {
    const a = ended('failed', '2026-11-26T01:00:00.000Z', 1, { deadLettered: true });
    const b = ended('timed_out', '2026-11-26T02:00:00.000Z', 1, { deadLettered: true });
    const c = ended('failed', '2026-11-26T03:00:00.000Z', 1);
    const replayOfA = ended('succeeded', '2026-11-26T04:00:00.000Z', 1, { replayOf: a.runId });
    const runs = [replayOfA, c, b, a];
    expect(replayedIds(runs)).toEqual(new Set([a.runId]));
    expect(unreplayedFailures(runs).map((r) => r.runId)).toEqual([c.runId, b.runId]);
    expect(stillDeadLettered(runs).map((r) => r.runId)).toEqual([b.runId]);
  });
});

describe('per day', () => {
  it('lists the last n UTC days, oldest first, ending today', () => {
    expect(lastDays(NOW, 3)).toEqual(['2026-11-24', '2026-11-25', '2026-11-26']);
    expect(lastDays(new Date('2026-03-01T00:30:00.000Z'), 2)).toEqual(['2026-02-28', '2026-03-01']);
  });

  it('counts outcomes on the day a run ended (UTC); runs outside the window or still going are left out', () => {
    const runs = [
      ended('succeeded', '2026-11-25T23:59:50.000Z', 20), // ends on the 26th
      ended('failed', '2026-11-25T10:00:00.000Z', 1),
      ended('timed_out', '2026-11-25T11:00:00.000Z', 1),
      ended('cancelled', '2026-11-24T11:00:00.000Z', 1),
      ended('succeeded', '2026-11-20T11:00:00.000Z', 1), // before the window
      makeRun({ job: 'j', status: 'running', createdAt: '2026-11-26T11:00:00.000Z' }),
    ];
    expect(outcomesPerDay(runs, NOW, 3)).toEqual([
      { day: '2026-11-24', succeeded: 0, failed: 0, cancelled: 1 },
      { day: '2026-11-25', succeeded: 0, failed: 2, cancelled: 0 },
      { day: '2026-11-26', succeeded: 1, failed: 0, cancelled: 0 },
    ]);
  });

  it('gives the duration points of runs ended since a time, oldest first', () => {
    const late = ended('succeeded', '2026-11-26T10:00:00.000Z', 30);
    const early = ended('failed', '2026-11-26T09:00:00.000Z', 90);
    const old = ended('succeeded', '2026-11-01T09:00:00.000Z', 5);
    const points = durationPoints([late, early, old], new Date('2026-11-12T12:00:00.000Z'));
    expect(points).toEqual([
      { runId: early.runId, at: early.endedAt, ms: 90_000, status: 'failed' },
      { runId: late.runId, at: late.endedAt, ms: 30_000, status: 'succeeded' },
    ]);
  });

  it('sums recorded costs and Fargate estimates by the day the attempt stopped; EC2 adds nothing', () => {
    const fargate = job({
      name: 'j',
      trigger: { s3: { bucket: 'uploads' } },
      task: { image: 'node:22', cpu: 1024, memory: 2048, capacity: 'FARGATE' },
    });
    const attempts = [
      makeAttempt({ runId: 'a', attempt: 1, costUsd: 0.01, stoppedAt: '2026-11-26T01:00:00.000Z' }),
      makeAttempt({ runId: 'b', attempt: 1, costUsd: 0.02, stoppedAt: '2026-11-26T02:00:00.000Z' }),
      // No recorded cost: priced at on-demand Fargate for the one-minute minimum.
      makeAttempt({
        runId: 'c',
        attempt: 1,
        costUsd: null,
        capacity: 'local',
        durationMs: 4000,
        stoppedAt: '2026-11-25T02:00:00.000Z',
      }),
      makeAttempt({
        runId: 'd',
        attempt: 1,
        costUsd: null,
        capacity: 'berth-svc-dev-ec2',
        stoppedAt: '2026-11-25T03:00:00.000Z',
      }),
      makeAttempt({ runId: 'e', attempt: 1, costUsd: 5, stoppedAt: '2026-11-01T03:00:00.000Z' }),
    ];
    const days = costPerDay(attempts, fargate, NOW, 2);
    expect(days[1]).toEqual({ day: '2026-11-26', usd: 0.03, estimated: false, counted: true });
    expect(days[0]?.day).toBe('2026-11-25');
    expect(days[0]?.estimated).toBe(true);
    // 1 vCPU · $0.04048/h + 2 GB · $0.004445/h for 60 s.
    expect(days[0]?.usd).toBeCloseTo((0.04048 + 2 * 0.004445) / 60, 8);
  });
});

describe('cost per day, partly read', () => {
  it('does not count the days before the attempts read cover', () => {
    const attempts = [
      makeAttempt({ runId: 'a', attempt: 1, costUsd: 0.01, stoppedAt: '2026-11-26T01:00:00.000Z' }),
      makeAttempt({ runId: 'b', attempt: 1, costUsd: 0.02, stoppedAt: '2026-11-25T01:00:00.000Z' }),
    ];
    expect(costPerDay(attempts, undefined, NOW, 3, '2026-11-26')).toEqual([
      { day: '2026-11-24', usd: 0, estimated: false, counted: false },
      { day: '2026-11-25', usd: 0, estimated: false, counted: false },
      { day: '2026-11-26', usd: 0.01, estimated: false, counted: true },
    ]);
  });
});
