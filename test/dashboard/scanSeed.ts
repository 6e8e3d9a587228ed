/**
 * Two weeks of runs for the jobs table and the job page: a daily report that fails now and then, a busy
 * S3 job on Fargate Spot with recorded costs, a worker fleet with a backlog, and a job whose image name is
 * long enough to wrap. Deterministic (a fixed clock and a seeded generator), so screenshots compare.
 */
import type { Job } from '../../src/core/model/job.js';
import type { AttemptRecord, RunRecord } from '../../src/runtime/ports.js';
import { EXAMPLE_JOBS, FakeEngine, job, makeAttempt, makeRun, SERVICE_JOB } from './fakeEngine.js';

export const SCAN_NOW = new Date('2026-11-26T12:00:00.000Z');

export const LONG_IMAGE =
  '123456789012.dkr.ecr.eu-west-1.amazonaws.com/platform-team/invoice-pdf-renderer-with-fonts:2026-11-26-build-48213';

export const INVOICE_JOB: Job = job({
  name: 'invoice-pdf',
  description: 'Render the monthly invoices as PDFs',
  trigger: { queue: {} },
  task: { image: LONG_IMAGE, cpu: 2048, memory: 4096, capacity: 'FARGATE' },
  retry: { maxAttempts: 3 },
});

export const SCAN_JOBS: Job[] = [...EXAMPLE_JOBS, SERVICE_JOB, INVOICE_JOB];

/** A small linear congruential generator: the same numbers every time. */
function generator(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

function endedRun(
  jobName: string,
  createdAt: Date,
  ms: number,
  status: RunRecord['status'],
  extra: Partial<RunRecord> = {},
): RunRecord {
  return makeRun({
    job: jobName,
    status,
    attempt: 1,
    createdAt: createdAt.toISOString(),
    updatedAt: new Date(createdAt.getTime() + ms).toISOString(),
    endedAt: new Date(createdAt.getTime() + ms).toISOString(),
    outcome: status === 'succeeded' ? 'succeeded' : status === 'cancelled' ? 'cancelled' : 'app_error',
    exitCode: status === 'succeeded' ? 0 : status === 'failed' ? 1 : null,
    ...extra,
  });
}

function attemptOf(run: RunRecord, capacity: string, costUsd: number | null): AttemptRecord {
  const start = Date.parse(run.createdAt) + 2000;
  const stop = Date.parse(run.endedAt ?? run.createdAt);
  return makeAttempt({
    runId: run.runId,
    attempt: 1,
    capacity,
    launchedAt: run.createdAt,
    startedAt: new Date(start).toISOString(),
    stoppedAt: new Date(stop).toISOString(),
    durationMs: Math.max(0, stop - start),
    outcome: run.outcome,
    exitCode: run.exitCode,
    costUsd,
  });
}

/** The engine with the two weeks of runs in it. */
export function seedScanEngine(logDir: string): FakeEngine {
  const engine = new FakeEngine(SCAN_JOBS, logDir, () => SCAN_NOW);
  const rnd = generator(42);
  const day = 86_400_000;
  // nightly-report: once a day at 17:00 UTC (02:00 Seoul), 4–9 minutes, two failures.
  for (let d = 13; d >= 0; d--) {
    const at = new Date(SCAN_NOW.getTime() - d * day - 19 * 3_600_000);
    const failed = d === 9 || d === 3;
    const run = endedRun(
      'nightly-report',
      at,
      240_000 + Math.round(rnd() * 300_000),
      failed ? 'failed' : 'succeeded',
    );
    engine.put(run, [attemptOf(run, 'FARGATE_SPOT', 0.0041 + rnd() * 0.002)]);
  }
  // thumbnail: many small runs a day, a few failures, one dead-lettered and later replayed.
  for (let d = 13; d >= 0; d--) {
    const n = 6 + Math.floor(rnd() * 10);
    for (let i = 0; i < n; i++) {
      const at = new Date(
        SCAN_NOW.getTime() - d * day - Math.floor(rnd() * (d === 0 ? 11 : 23)) * 3_600_000 - 600_000,
      );
      const r = rnd();
      const status = r < 0.06 ? 'failed' : r < 0.08 ? 'cancelled' : 'succeeded';
      const run = endedRun('thumbnail', at, 8_000 + Math.round(rnd() * 40_000), status, {
        trigger: {
          kind: 's3',
          bucket: 'uploads',
          key: `images/photo-${d}-${i}.jpg`,
          size: 48213,
          time: at.toISOString(),
        },
      });
      engine.put(run, [attemptOf(run, 'FARGATE_SPOT', null)]);
    }
  }
  const dead = endedRun('thumbnail', new Date(SCAN_NOW.getTime() - 2 * 3_600_000), 30_000, 'failed', {
    deadLettered: true,
    attempt: 3,
  });
  engine.put(dead, [attemptOf(dead, 'FARGATE_SPOT', null)]);
  const replay = endedRun('thumbnail', new Date(SCAN_NOW.getTime() - 3_600_000), 12_000, 'succeeded', {
    replayOf: dead.runId,
  });
  engine.put(replay, [attemptOf(replay, 'FARGATE_SPOT', null)]);
  const running = makeRun({
    job: 'thumbnail',
    status: 'running',
    attempt: 1,
    createdAt: new Date(SCAN_NOW.getTime() - 20_000).toISOString(),
  });
  engine.put(running, [
    makeAttempt({
      runId: running.runId,
      attempt: 1,
      status: 'running',
      stoppedAt: null,
      durationMs: null,
      outcome: null,
      exitCode: null,
      costUsd: null,
      launchedAt: running.createdAt,
      startedAt: running.createdAt,
    }),
  ]);
  // invoice-pdf: a queue job that failed twice today and has dead letters waiting.
  for (let d = 6; d >= 0; d--) {
    const at = new Date(SCAN_NOW.getTime() - d * day - 5 * 3_600_000);
    const status = d === 0 || d === 1 ? 'failed' : 'succeeded';
    const run = endedRun('invoice-pdf', at, 95_000 + Math.round(rnd() * 60_000), status, {
      deadLettered: status === 'failed' && d === 0,
    });
    engine.put(run, [attemptOf(run, 'FARGATE', 0.0093)]);
  }
  engine.queues.set('invoice-pdf', { visible: 12, inFlight: 2, delayed: 0, deadLetter: 3 });
  engine.queues.set('email-sender', { visible: 340, inFlight: 40, delayed: 0, deadLetter: 0 });
  engine.pools = [
    {
      job: 'email-sender',
      minTasks: 0,
      maxTasks: 10,
      backlogPerTask: 20,
      desired: 2,
      running: 2,
      history: [
        { at: new Date(SCAN_NOW.getTime() - 600_000).toISOString(), workers: 0, visible: 0 },
        { at: new Date(SCAN_NOW.getTime() - 300_000).toISOString(), workers: 2, visible: 380 },
      ],
    },
  ];
  return engine;
}
