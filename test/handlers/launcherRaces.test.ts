/**
 * Issue 12, defects 6–10 at the handler level: overlap 'skip' and redrive races inside one batch, the
 * Retrying event outbox, failed records in the log, throttle back-off by throttle count.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '../../src/core/model/job.js';
import { handleTaskStateChange } from '../../src/runtime/aws/interceptor.js';
import { handleLaunchBatch } from '../../src/runtime/aws/launcher.js';
import { sweep } from '../../src/runtime/aws/sweeper.js';
import { acceptTrigger, throttleDelayMs } from '../../src/runtime/lifecycle.js';
import { openDevDb } from '../../src/runtime/local/db.js';
import { SqliteRunStore } from '../../src/runtime/local/store.js';
import type { LaunchMessage, LifecycleDeps } from '../../src/runtime/ports.js';
import {
  FakeClock,
  fixture,
  job,
  RecordingPublisher,
  RecordingQueue,
  sqsRecord,
  stopEvent,
  thumbnail,
} from '../runtime/aws/support.js';
import { harness } from './harness.js';

const ecsMock = mockClient(ECSClient);
let taskSeq = 0;
const batch = (...records: ReturnType<typeof sqsRecord>[]): SQSEvent => ({ Records: records }) as SQSEvent;
const s3Body = () => ({ type: 's3', job: 'thumbnail', event: fixture('s3/object-created.json') });

const nightly = (): Job =>
  job({
    name: 'nightly-report',
    trigger: { schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Asia/Seoul' } },
    task: { image: 'node:22' },
    overlap: 'skip',
  });
const fire = (scheduledTime: string) => ({
  ...fixture<Record<string, unknown>>('scheduler/launch-input.json'),
  scheduledTime,
});

describe('issue 12 races and outboxes', () => {
  beforeEach(() => {
    ecsMock.reset();
    taskSeq = 0;
    ecsMock.on(RunTaskCommand).callsFake(async () => ({
      tasks: [{ taskArn: `arn:aws:ecs:us-east-1:123456789012:task/berth-demo/t${++taskSeq}` }],
    }));
  });
  afterEach(() => vi.restoreAllMocks());

  it("overlap 'skip': two different schedule fires in one batch while nothing runs start exactly one run", async () => {
    const h = harness([nightly()]);
    const out = await handleLaunchBatch(
      h.rt,
      batch(
        sqsRecord(fire('2026-03-01T17:00:00Z'), undefined, 'a'),
        sqsRecord(fire('2026-03-02T17:00:00Z'), undefined, 'b'),
      ),
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(h.store.runs.size).toBe(1);
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(1);

    // The same fire delivered again is a duplicate, not a skip; once the run ends the next fire starts.
    const [run] = await h.store.listRuns({});
    await handleLaunchBatch(
      h.rt,
      batch(sqsRecord(fire(run!.trigger.kind === 'schedule' ? run!.trigger.scheduledTime : ''))),
    );
    expect(h.store.runs.size).toBe(1);
    const stopped = await handleTaskStateChange(
      h.rt,
      stopEvent('stopped-exit-0', run!.runId, 1, run!.taskArn!),
    );
    expect(stopped).toMatchObject({ outcome: { status: 'final', runStatus: 'succeeded' } });
    await handleLaunchBatch(h.rt, batch(sqsRecord(fire('2026-03-03T17:00:00Z'))));
    expect(h.store.runs.size).toBe(2);
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(2);
  });

  it("overlap 'skip' on the local SQLite store: two fires accepted back to back, before either launched, make one run", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-skip-'));
    try {
      const db = openDevDb(join(dir, 'dev.db'));
      const store = new SqliteRunStore(db);
      const deps: LifecycleDeps = {
        store,
        launcher: { launch: async () => ({ ok: true, taskArn: 'local-1', capacity: 'local' }) },
        queue: new RecordingQueue(),
        events: new RecordingPublisher(),
        clock: new FakeClock(),
        environment: 'local',
      };
      const trigger = (t: string) => ({
        kind: 'schedule' as const,
        scheduleId: 'schedule-0',
        scheduledTime: t,
      });
      const results = await Promise.all([
        acceptTrigger(deps, nightly(), trigger('2026-03-01T17:00:00.000Z')),
        acceptTrigger(deps, nightly(), trigger('2026-03-02T17:00:00.000Z')),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['accepted', 'skipped']);
      expect(await store.listRuns({ job: 'nightly-report' })).toHaveLength(1);
      // A fire while runs are active says how many in words (not "run(s)").
      for (const [active, words] of [
        [1, '1 run'],
        [2, '2 runs'],
      ] as const) {
        const counting = Object.assign(Object.create(store) as SqliteRunStore, {
          countActive: async () => active,
        });
        const later = await acceptTrigger(
          { ...deps, store: counting },
          nightly(),
          trigger('2026-03-03T17:00:00.000Z'),
        );
        expect(later).toEqual({
          status: 'skipped',
          reason: `overlap 'skip': ${words} of nightly-report still active`,
        });
      }
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('redrive: two redrive requests for one run in one batch make exactly one replay', async () => {
    const h = harness([thumbnail()]);
    await handleLaunchBatch(h.rt, batch(sqsRecord(s3Body())));
    const [run] = await h.store.listRuns({});
    await h.store.transition(run!.runId, ['running'], { status: 'failed', deadLettered: true });
    const redrive = (requestId: string, id: string) =>
      sqsRecord({ type: 'redrive', job: 'thumbnail', runId: run!.runId, requestId }, undefined, id);
    const out = await handleLaunchBatch(h.rt, batch(redrive('q1', 'a'), redrive('q2', 'b')));
    expect(out.batchItemFailures).toEqual([]);
    const replays = (await h.store.listRuns({})).filter((r) => r.replayOf === run!.runId);
    expect(replays).toHaveLength(1);
    expect((await h.store.getRun(run!.runId))?.deadLettered).toBe(false);
    // Every launch message names that one replay.
    expect(new Set(h.queue.sent.map((s) => s.message.runId))).toEqual(new Set([replays[0]!.runId]));
  });

  it('a Retrying event is not lost when the retry SendMessage fails: the sweeper publishes it from the outbox', async () => {
    const h = harness([thumbnail()]);
    await handleLaunchBatch(h.rt, batch(sqsRecord(s3Body())));
    const [run] = await h.store.listRuns({});
    let failures = 1;
    const enqueue = h.queue.enqueue.bind(h.queue);
    h.queue.enqueue = async (message: LaunchMessage, delayMs: number) => {
      if (failures-- > 0) throw new Error('SendMessage: ServiceUnavailable');
      return enqueue(message, delayMs);
    };
    const stop = stopEvent('stopped-exit-1', run!.runId, 1, run!.taskArn!);
    await expect(handleTaskStateChange(h.rt, structuredClone(stop))).rejects.toThrow(/ServiceUnavailable/);
    // EventBridge invokes the interceptor again: the run moved on, so the stop is a duplicate.
    expect(await handleTaskStateChange(h.rt, structuredClone(stop))).toMatchObject({
      outcome: { status: 'duplicate' },
    });
    expect(h.events.types()).toEqual(['Job Run Started']);

    h.clock.advance(5 * 60_000);
    const report = await sweep(h.rt);
    expect(report.errors).toEqual([]);
    expect(h.events.types()).toEqual(['Job Run Started', 'Job Run Retrying']);
    const retrying = h.events.events[1]!.detail;
    expect(retrying).toMatchObject({
      runId: run!.runId,
      attempt: 1,
      status: 'retrying',
      outcome: 'app_error',
      exitCode: 1,
      taskArn: run!.taskArn,
    });
    expect(retrying.nextAttemptAt).not.toBeNull();
    // The stuck run's launch was put back too, and a second sweep publishes nothing again.
    expect(h.queue.sent.map((s) => s.message)).toContainEqual({
      type: 'launch',
      job: 'thumbnail',
      runId: run!.runId,
      attempt: 2,
    });
    await sweep(h.rt);
    expect(h.events.types().filter((t) => t === 'Job Run Retrying')).toHaveLength(1);
  });

  it('a Retrying event published at once leaves nothing in the outbox', async () => {
    const h = harness([thumbnail()]);
    await handleLaunchBatch(h.rt, batch(sqsRecord(s3Body())));
    const [run] = await h.store.listRuns({});
    await handleTaskStateChange(h.rt, stopEvent('stopped-exit-1', run!.runId, 1, run!.taskArn!));
    expect(h.events.types()).toEqual(['Job Run Started', 'Job Run Retrying']);
    h.clock.advance(5 * 60_000);
    await sweep(h.rt);
    expect(h.events.types()).toEqual(['Job Run Started', 'Job Run Retrying']);
  });

  it('logs every failed record with its job, message id and reason', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
    const h = harness([thumbnail()]);
    const out = await handleLaunchBatch(
      h.rt,
      batch(
        sqsRecord({ type: 'invoke', job: 'gone', requestId: 'x' }, undefined, 'msg-unknown-job'),
        sqsRecord('not json at all', undefined, 'msg-garbage'),
        sqsRecord(s3Body(), undefined, 'msg-good'),
      ),
    );
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'msg-garbage',
      'msg-unknown-job',
    ]);
    const lines = errors.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        job: 'gone',
        messageId: 'msg-unknown-job',
        receiveCount: 1,
        reason: expect.stringMatching(/job gone is not in this stack's manifest/),
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        job: null,
        messageId: 'msg-garbage',
        reason: expect.stringMatching(/not JSON/),
      }),
    );
  });

  it('backs off on how often a launch was throttled, with jitter, not on its attempt number', async () => {
    ecsMock.reset();
    ecsMock
      .on(RunTaskCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const h = harness([thumbnail()]);
    await handleLaunchBatch(h.rt, batch(sqsRecord(s3Body())));
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const last = h.queue.sent.at(-1)!;
      delays.push(last.delayMs);
      expect(last.message.throttles).toBe(i + 1);
      await handleLaunchBatch(h.rt, batch(sqsRecord(last.message)));
    }
    // Attempt 1 throughout; the delay doubles with each throttle (FakeClock.random() = 0.5: ¾ of the ceiling).
    expect(delays).toEqual([750, 1500, 3000, 6000, 12_000]);
    expect(new Set(h.queue.sent.map((s) => s.message.attempt))).toEqual(new Set([1]));
    // Jitter: half of the back-off is random.
    expect(throttleDelayMs(3, 0)).toBe(4000);
    expect(throttleDelayMs(3, 0.999)).toBeGreaterThan(7990);
    expect(throttleDelayMs(40, 1)).toBe(60_000);
  });
});
