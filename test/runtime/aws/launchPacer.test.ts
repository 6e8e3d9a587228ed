import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleLaunchBatch } from '../../../src/runtime/aws/launcher.js';
import { LaunchPacer, PacedTaskLauncher } from '../../../src/runtime/aws/launchPacer.js';
import type { LaunchRequest, LaunchResult } from '../../../src/runtime/ports.js';
import { harness } from '../../handlers/harness.js';
import { fixture, sqsRecord, thumbnail } from './support.js';

/** A pacer on a hand-moved clock; sleeping moves the clock. */
function pacer(instances: number, maxWaitMs = 10_000) {
  const time = { now: 0, slept: [] as number[] };
  const p = new LaunchPacer({
    instances,
    maxWaitMs,
    now: () => time.now,
    sleep: async (ms) => {
      time.slept.push(ms);
    },
  });
  return { p, time };
}

describe('LaunchPacer', () => {
  it('gives one of N launcher instances 1/N of the RunTask API quota (20 calls/s, burst and sustained)', async () => {
    const { p, time } = pacer(5);
    // Burst: 20/5 = 4 calls at once; then one every 250 ms (20/5 = 4 per second).
    for (let i = 0; i < 4; i++) expect(await p.acquire()).toEqual({ ok: true });
    expect(time.slept).toEqual([]);
    await p.acquire();
    await p.acquire();
    expect(time.slept).toEqual([250, 500]);
    // A second later the bucket has refilled by 4 tokens, less the 2 reserved ahead.
    time.now = 1000;
    time.slept = [];
    for (let i = 0; i < 2; i++) await p.acquire();
    expect(time.slept).toEqual([]);
    await p.acquire();
    expect(time.slept).toEqual([250]);
  });

  it('keeps under the task launch bucket too (100 burst, 20/s) when it is the tighter one', () => {
    const { p } = pacer(1);
    expect(p.api.capacity).toBe(20);
    expect(p.tasks.capacity).toBe(100);
    expect(p.tasks.perSecond).toBe(20);
    // 100 calls in a row: the API bucket (20 burst) makes the 21st wait, whatever the task bucket holds.
    let wait = 0;
    for (let i = 0; i < 21; i++) wait = Math.max(p.api.reserve(), p.tasks.reserve());
    expect(wait).toBe(50);
  });

  it('does not call when the wait would be too long: the launch comes back later, its tokens unspent', async () => {
    const { p, time } = pacer(20, 2000);
    // 20 instances: 1 call burst, 1 per second.
    expect(await p.acquire()).toEqual({ ok: true });
    expect(await p.acquire()).toEqual({ ok: true });
    expect(time.slept).toEqual([1000]);
    expect(await p.acquire()).toEqual({ ok: true });
    expect(await p.acquire()).toEqual({ ok: false, retryAfterMs: 3000 });
    // The refused call reserved nothing: at t = 2 s the tokens of t = 1 s and 2 s are taken, the next is at 3 s.
    time.now = 2000;
    time.slept = [];
    expect(await p.acquire()).toEqual({ ok: true });
    expect(time.slept).toEqual([1000]);
  });

  it('empties its buckets when ECS throttles anyway, so the next calls come at the refill rate', async () => {
    const { p, time } = pacer(1);
    let answer: LaunchResult = { ok: false, kind: 'throttled', reason: 'RunTask throttled: Rate exceeded' };
    const launcher = new PacedTaskLauncher({ launch: async () => answer }, p);
    await launcher.launch({} as LaunchRequest);
    answer = { ok: true, taskArn: 't', capacity: 'FARGATE' };
    await launcher.launch({} as LaunchRequest);
    expect(time.slept).toEqual([50]);
  });
});

describe('paced launches in the launcher', () => {
  const ecsMock = mockClient(ECSClient);
  beforeEach(() => {
    ecsMock.reset();
    ecsMock
      .on(RunTaskCommand)
      .resolves({ tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/c/t' }] });
  });

  it('a launch held back by the pacer goes back to the queue for that long, counted as no throttle', async () => {
    const h = harness([thumbnail()]);
    const paced = h.rt.deps.launcher as PacedTaskLauncher;
    expect(paced).toBeInstanceOf(PacedTaskLauncher);
    paced.pacer.acquire = async () => ({ ok: false, retryAfterMs: 12_000 });
    const body = { type: 's3', job: 'thumbnail', event: fixture('s3/object-created.json') };
    const out = await handleLaunchBatch(h.rt, { Records: [sqsRecord(body)] } as SQSEvent);
    expect(out.batchItemFailures).toEqual([]);
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(0);
    const [run] = await h.store.listRuns({});
    expect(run?.status).toBe('queued');
    expect(h.queue.sent).toEqual([
      { message: { type: 'launch', job: 'thumbnail', runId: run!.runId, attempt: 1 }, delayMs: 12_000 },
    ]);
  });
});
