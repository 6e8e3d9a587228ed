import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateFargateCost } from '../../src/core/fargate.js';
import type { Job } from '../../src/core/model/job.js';
import { attemptCost, runCost } from '../../src/dashboard/views/run.js';
import { FakeEngine, job, makeAttempt, makeRun } from './fakeEngine.js';
import { raw, startHarness } from './harness.js';

const NOW = new Date('2026-11-26T12:00:00.000Z');

function jobOn(capacity: Job['task']['capacity']): Job {
  return job({
    name: 'resize',
    trigger: { s3: { bucket: 'uploads' } },
    task: { image: 'public.ecr.aws/docker/library/node:22-alpine', cpu: 1024, memory: 2048, capacity },
  });
}

// 1 vCPU, 2 GB for 120 s (two minutes of an attempt).
const ON_DEMAND = estimateFargateCost({ cpu: 1024, memory: 2048, architecture: 'x86_64', seconds: 120 });
const SPOT = estimateFargateCost({
  cpu: 1024,
  memory: 2048,
  architecture: 'x86_64',
  seconds: 120,
  spot: true,
});

function attempt(capacity: string | null, costUsd: number | null = null) {
  return makeAttempt({ runId: 'r1', attempt: 1, capacity, costUsd, durationMs: 120_000 });
}

describe('attemptCost', () => {
  it('uses the capacity ECS recorded: a Spot-with-fallback attempt that fell back costs on-demand', () => {
    const fallback = jobOn('FARGATE_SPOT_WITH_FALLBACK');
    expect(attemptCost(attempt('FARGATE'), fallback, NOW)).toEqual({
      kind: 'estimate',
      usd: ON_DEMAND,
      spot: false,
    });
    expect(attemptCost(attempt('FARGATE_SPOT'), fallback, NOW)).toEqual({
      kind: 'estimate',
      usd: SPOT,
      spot: true,
    });
    expect(SPOT).toBeLessThan(ON_DEMAND);
  });

  it("estimates a local attempt from the job's capacity", () => {
    expect(attemptCost(attempt('local'), jobOn('FARGATE'), NOW)).toMatchObject({ spot: false });
    expect(attemptCost(attempt('docker'), jobOn('FARGATE_SPOT'), NOW)).toMatchObject({ spot: true });
    // Locally nobody knows whether Spot would have had room: Spot is where the job asks to run.
    expect(attemptCost(attempt('local'), jobOn('FARGATE_SPOT_WITH_FALLBACK'), NOW)).toEqual({
      kind: 'estimate',
      usd: SPOT,
      spot: true,
    });
  });

  it('gives EC2 jobs and EC2 attempts no Fargate estimate', () => {
    const ec2 = jobOn({ provider: 'ec2' });
    expect(attemptCost(attempt('local'), ec2, NOW)).toEqual({ kind: 'ec2' });
    expect(attemptCost(attempt('berth-shop-prod-ec2'), jobOn('FARGATE'), NOW)).toEqual({ kind: 'ec2' });
    expect(attemptCost(attempt('EC2'), undefined, NOW)).toEqual({ kind: 'ec2' });
  });

  it('prefers a recorded cost, and estimates nothing for an attempt still running or an unknown job', () => {
    expect(attemptCost(attempt('FARGATE', 0.0123), jobOn('FARGATE'), NOW)).toEqual({
      kind: 'recorded',
      usd: 0.0123,
    });
    const running = makeAttempt({ runId: 'r1', attempt: 1, status: 'running', costUsd: null });
    expect(attemptCost(running, jobOn('FARGATE'), NOW)).toBeNull();
    expect(attemptCost(attempt('local'), undefined, NOW)).toBeNull();
  });
});

describe('runCost', () => {
  it('adds the attempts up, and stays an estimate when any part is one', () => {
    expect(
      runCost([
        { kind: 'recorded', usd: 0.01 },
        { kind: 'estimate', usd: 0.002, spot: true },
      ]),
    ).toEqual({ kind: 'estimate', usd: 0.012, spot: true });
    expect(
      runCost([
        { kind: 'estimate', usd: 0.002, spot: true },
        { kind: 'estimate', usd: 0.004, spot: false },
      ]),
    ).toEqual({ kind: 'estimate', usd: 0.006, spot: false });
    expect(runCost([{ kind: 'recorded', usd: 0.01 }, null])).toEqual({ kind: 'recorded', usd: 0.01 });
    expect(runCost([{ kind: 'ec2' }, { kind: 'ec2' }])).toEqual({ kind: 'ec2' });
    expect(runCost([null])).toBeNull();
  });
});

const logDir = join(process.cwd(), '.tmp', `dashboard-cost-${process.pid}`);
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

describe('run page cost column', () => {
  it('shows Spot estimates as Spot and EC2 runs without a Fargate cost', async () => {
    const spotJob = { ...jobOn('FARGATE_SPOT'), name: 'spot-job' };
    const ec2Job = { ...jobOn({ provider: 'ec2' }), name: 'ec2-job' };
    const engine = new FakeEngine([spotJob, ec2Job], logDir, () => NOW);
    const h = await startHarness(engine, { token: 't', now: () => NOW });
    try {
      const spot = engine.put(makeRun({ job: 'spot-job', status: 'succeeded' }));
      engine.attempts.set(spot.runId, [
        makeAttempt({ runId: spot.runId, attempt: 1, costUsd: null, durationMs: 120_000 }),
      ]);
      const ec2 = engine.put(makeRun({ job: 'ec2-job', status: 'succeeded' }));
      engine.attempts.set(ec2.runId, [makeAttempt({ runId: ec2.runId, attempt: 1, costUsd: null })]);

      const s = await raw(h.port, { path: `/runs/${spot.runId}` });
      expect(s.body).toContain(`≈ $${SPOT.toPrecision(2)} on Fargate Spot`);
      const e = await raw(h.port, { path: `/runs/${ec2.runId}` });
      expect(e.body).toContain('no Fargate cost (EC2)');
      expect(e.body).not.toContain('on Fargate');
    } finally {
      await h.close();
    }
  });
});
