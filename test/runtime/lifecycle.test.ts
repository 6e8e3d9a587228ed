/** The shared run lifecycle against the in-memory store: races and redeliveries around launchAttempt. */
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/core/model/job.js';
import { MemoryRunStore } from '../../src/runtime/aws/memoryRunStore.js';
import { acceptTrigger, launchAttempt, newRunRecord, recordStop } from '../../src/runtime/lifecycle.js';
import type { LaunchRequest, LaunchResult, LifecycleDeps } from '../../src/runtime/ports.js';
import { FakeClock, RecordingPublisher, RecordingQueue, thumbnail } from './aws/support.js';

type LaunchFn = (request: LaunchRequest) => Promise<LaunchResult>;

function setup(launch: LaunchFn, store = new MemoryRunStore()) {
  const clock = new FakeClock();
  const requests: LaunchRequest[] = [];
  const deps: LifecycleDeps = {
    store,
    launcher: {
      launch: (request) => {
        requests.push(request);
        return launch(request);
      },
    },
    queue: new RecordingQueue(),
    events: new RecordingPublisher(),
    clock,
    environment: 'aws',
  };
  return { deps, store, requests };
}

const manual = (id: string) => ({ kind: 'manual' as const, requestId: id, payload: { id } });
const taskArn = (n: string) => `arn:aws:ecs:us-east-1:123456789012:task/berth-demo/${n}`;

async function accepted(deps: LifecycleDeps, job: Job, id: string): Promise<string> {
  const result = await acceptTrigger(deps, job, manual(id));
  if (result.status !== 'accepted') throw new Error(`not accepted: ${result.status}`);
  return result.runId;
}

/** A store whose next acquireSlot call runs `hook` before answering (to interleave two deliveries). */
class HookedStore extends MemoryRunStore {
  hook: (() => Promise<void>) | undefined;
  override async acquireSlot(job: string, runId: string, max: number): Promise<boolean> {
    const got = await super.acquireSlot(job, runId, max);
    const hook = this.hook;
    this.hook = undefined;
    if (hook) await hook();
    return got;
  }
}

describe('launchAttempt', () => {
  it('a stale duplicate delivery does not release the slot an in-flight launch of the run holds', async () => {
    const job = thumbnail({ maxConcurrency: 1 });
    const store = new HookedStore();
    let finish: (r: LaunchResult) => void = () => {};
    const { deps } = setup(() => new Promise((resolve) => (finish = resolve)), store);
    const runId = await accepted(deps, job, 'a');

    const m1 = launchAttempt(deps, job, runId, 1);
    await expect.poll(() => store.runs.get(runId)?.status).toBe('launching');
    // M2 reads `launching`, gets the run's own slot back, then M1 finishes and moves the run to running.
    store.hook = async () => {
      finish({ ok: true, taskArn: taskArn('t1'), capacity: 'FARGATE' });
      await m1;
    };
    const m2 = await launchAttempt(deps, job, runId, 1);
    expect(m2.status).toBe('stale');
    expect(store.runs.get(runId)?.status).toBe('running');
    expect([...store.slots.values()].map((s) => s.runId)).toEqual([runId]);

    // The cap still holds: another run of the job waits.
    const other = await accepted(deps, job, 'b');
    expect((await launchAttempt(deps, job, other, 1)).status).toBe('later');
  });

  it('does not flip an attempt whose stop was recorded during the launch back to running', async () => {
    const job = thumbnail();
    let deps: LifecycleDeps | undefined;
    const setupResult = setup(async (request) => {
      // The task starts and stops, and the stop is recorded, before RunTask's answer is written.
      await recordStop(deps as LifecycleDeps, job, {
        runId: request.run.runId,
        attempt: request.attempt,
        taskArn: taskArn('t1'),
        startedAt: '2026-03-01T10:00:01.000Z',
        stoppedAt: '2026-03-01T10:00:02.000Z',
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
        containers: [{ name: 'main', exitCode: 0 }],
      });
      return { ok: true, taskArn: taskArn('t1'), capacity: 'FARGATE' };
    });
    deps = setupResult.deps;
    const runId = await accepted(deps, job, 'a');
    expect((await launchAttempt(deps, job, runId, 1)).status).toBe('launched');
    const [attempt] = await setupResult.store.listAttempts(runId);
    expect(attempt?.status).toBe('ended');
    expect(attempt?.outcome).toBe('succeeded');
    expect((await setupResult.store.getRun(runId))?.status).toBe('succeeded');
  });

  it('a throttled on-demand fallback puts a retrying run back as retrying', async () => {
    const job = thumbnail({
      maxConcurrency: 2,
      task: { image: 'node:22', capacity: 'FARGATE_SPOT_WITH_FALLBACK' },
    });
    const { deps, store, requests } = setup(async (request) =>
      request.capacity === 'FARGATE_SPOT'
        ? { ok: false, kind: 'capacity', reason: 'RESOURCE:FARGATE' }
        : { ok: false, kind: 'throttled', reason: 'ThrottlingException' },
    );
    const run = newRunRecord({
      runId: 'r-retry',
      job: job.name,
      status: 'retrying',
      attempt: 2,
      maxAttempts: 3,
      trigger: manual('a'),
      idempotencyKey: 'k',
      createdAt: '2026-03-01T09:59:00.000Z',
    });
    await store.createRun(run);
    const outcome = await launchAttempt(deps, job, run.runId, 2);
    expect(outcome.status).toBe('later');
    expect(requests.map((r) => r.capacity)).toEqual(['FARGATE_SPOT', 'FARGATE']);
    expect((await store.getRun(run.runId))?.status).toBe('retrying');
    expect(store.slots.size).toBe(0);
  });

  it('a redelivery after an on-demand fallback launch repeats the on-demand launch, not Spot', async () => {
    const job = thumbnail({ task: { image: 'node:22', capacity: 'FARGATE_SPOT_WITH_FALLBACK' } });
    let crash = true;
    const { deps, store, requests } = setup(async (request) => {
      if (request.capacity === 'FARGATE_SPOT')
        return { ok: false, kind: 'capacity', reason: 'RESOURCE:FARGATE' };
      // The on-demand task starts, then the Lambda dies before writing the answer.
      if (crash) throw new Error('Lambda crashed');
      return { ok: true, taskArn: taskArn('od'), capacity: 'FARGATE' };
    });
    const runId = await accepted(deps, job, 'a');
    await expect(launchAttempt(deps, job, runId, 1)).rejects.toThrow('Lambda crashed');
    expect(requests.map((r) => [r.capacity, r.clientToken.endsWith('-od')])).toEqual([
      ['FARGATE_SPOT', false],
      ['FARGATE', true],
    ]);
    const token = requests[1]?.clientToken;

    crash = false;
    requests.length = 0;
    expect(await launchAttempt(deps, job, runId, 1)).toEqual({ status: 'launched', taskArn: taskArn('od') });
    expect(requests.map((r) => [r.capacity, r.clientToken])).toEqual([['FARGATE', token]]);
    const [attempt] = await store.listAttempts(runId);
    expect(attempt?.capacity).toBe('FARGATE');
    expect((await store.getRun(runId))?.status).toBe('running');
  });
});
