import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleLaunchBatch } from '../../src/runtime/aws/launcher.js';
import { fixture, job, sqsRecord, thumbnail } from '../runtime/aws/support.js';
import { harness } from './harness.js';

const ecsMock = mockClient(ECSClient);
const TASK = 'arn:aws:ecs:us-east-1:111122223333:task/berth-demo/t1';
const s3Body = () => ({ type: 's3', job: 'thumbnail', event: fixture('s3/object-created.json') });
const batch = (...records: ReturnType<typeof sqsRecord>[]): SQSEvent => ({ Records: records }) as SQSEvent;

describe('launcher', () => {
  beforeEach(() => {
    ecsMock.reset();
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }] });
  });

  it('launches one task per S3 event and publishes Job Run Started', async () => {
    const h = harness([thumbnail()]);
    const out = await handleLaunchBatch(h.rt, batch(sqsRecord(s3Body())));
    expect(out.batchItemFailures).toEqual([]);
    const input = ecsMock.commandCalls(RunTaskCommand)[0]!.args[0].input;
    const [run] = await h.store.listRuns({});
    expect(run).toMatchObject({ job: 'thumbnail', status: 'running', taskArn: TASK, attempt: 1 });
    expect(input.startedBy).toBe(`berth/${run!.runId}`);
    const env = Object.fromEntries(
      input.overrides!.containerOverrides![0]!.environment!.map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({ BERTH_JOB: 'thumbnail', BERTH_RUN_ID: run!.runId, BERTH_ATTEMPT: '1' });
    expect(JSON.parse(env.BERTH_TRIGGER!)).toMatchObject({ kind: 's3', key: 'example-key' });
    expect(h.events.types()).toEqual(['Job Run Started']);
    expect(h.queue.sent).toEqual([]);
  });

  it('drops a duplicate S3 event: one run, one task', async () => {
    const h = harness([thumbnail()]);
    await handleLaunchBatch(
      h.rt,
      batch(sqsRecord(s3Body(), undefined, 'a'), sqsRecord(s3Body(), undefined, 'b')),
    );
    await handleLaunchBatch(h.rt, batch(sqsRecord(s3Body(), undefined, 'c')));
    expect(h.store.runs.size).toBe(1);
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(1);
    // The concurrent duplicate queued a launch in case the first delivery crashed; it finds the run running.
    for (const { message } of h.queue.sent) await handleLaunchBatch(h.rt, batch(sqsRecord(message)));
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(1);
  });

  it('puts a throttled launch back on the queue with a delay and reports the record done', async () => {
    ecsMock.reset();
    ecsMock
      .on(RunTaskCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const h = harness([thumbnail()]);
    const out = await handleLaunchBatch(h.rt, batch(sqsRecord(s3Body())));
    expect(out.batchItemFailures).toEqual([]);
    const [run] = await h.store.listRuns({});
    expect(run?.status).toBe('queued');
    expect(h.queue.sent).toHaveLength(1);
    // The message counts the throttle: the next back-off grows with it.
    expect(h.queue.sent[0]!.message).toEqual({
      type: 'launch',
      job: 'thumbnail',
      runId: run!.runId,
      attempt: 1,
      throttles: 1,
    });
    expect(h.queue.sent[0]!.delayMs).toBeGreaterThan(0);

    // The delayed message comes back once ECS has tokens again.
    ecsMock.reset();
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }] });
    await handleLaunchBatch(h.rt, batch(sqsRecord(h.queue.sent[0]!.message)));
    expect((await h.store.getRun(run!.runId))?.status).toBe('running');
  });

  it('after a RunTask with no response, launches the same attempt again with the same client token', async () => {
    ecsMock.reset();
    ecsMock
      .on(RunTaskCommand)
      .rejectsOnce(
        Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: { attempts: 3 } }),
      )
      .resolves({ tasks: [{ taskArn: TASK }] });
    const h = harness([thumbnail()]);
    await handleLaunchBatch(h.rt, batch(sqsRecord(s3Body())));
    const [run] = await h.store.listRuns({});
    expect(run?.status).toBe('queued');
    expect(await h.store.listAttempts(run!.runId)).toMatchObject([{ attempt: 1, outcome: null }]);
    expect(h.queue.sent.map((s) => s.message)).toEqual([
      { type: 'launch', job: 'thumbnail', runId: run!.runId, attempt: 1, throttles: 1 },
    ]);
    await handleLaunchBatch(h.rt, batch(sqsRecord(h.queue.sent[0]!.message)));
    const tokens = ecsMock.commandCalls(RunTaskCommand).map((c) => c.args[0].input.clientToken);
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toBe(tokens[0]);
    expect(await h.store.getRun(run!.runId)).toMatchObject({ status: 'running', attempt: 1, taskArn: TASK });
  });

  it('fails only the record whose re-enqueue failed, so SQS redelivers it and it launches then', async () => {
    ecsMock.reset();
    ecsMock
      .on(RunTaskCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const h = harness([thumbnail()]);
    h.queue.enqueue = async () => {
      throw new Error('SQS unavailable');
    };
    const other = { type: 'invoke', job: 'thumbnail', requestId: 'req-1' };
    ecsMock.reset();
    let throttledOnce = false;
    ecsMock.on(RunTaskCommand).callsFake((input) => {
      // Records of a batch run concurrently: throttle the S3 record's first launch, whatever the order.
      const isS3 = JSON.stringify(input.overrides).includes('example-key');
      if (isS3 && !throttledOnce) {
        throttledOnce = true;
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      }
      return { tasks: [{ taskArn: TASK }] };
    });
    const out = await handleLaunchBatch(
      h.rt,
      batch(sqsRecord(s3Body(), undefined, 's3-msg'), sqsRecord(other, undefined, 'inv')),
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 's3-msg' }]);
    // Redelivery of the same S3 message finds its run queued and queues its launch, which then launches.
    const sent: unknown[] = [];
    h.queue.enqueue = async (m) => void sent.push(m);
    const again = await handleLaunchBatch(h.rt, batch(sqsRecord(s3Body(), undefined, 's3-msg')));
    expect(again.batchItemFailures).toEqual([]);
    expect(sent).toHaveLength(1);
    await handleLaunchBatch(h.rt, batch(sqsRecord(sent[0])));
    const runs = await h.store.listRuns({});
    expect(runs.map((r) => r.status).sort()).toEqual(['running', 'running']);
  });

  it('holds a run over maxConcurrency in the queue until a slot frees', async () => {
    const worker = job({
      name: 'order-worker',
      trigger: { queue: {} },
      task: { image: 'node:22' },
      maxConcurrency: 1,
    });
    const h = harness([worker], { 'berth-demo-order-worker': 'order-worker' });
    const arn = 'arn:aws:sqs:us-east-1:123456789012:berth-demo-order-worker';
    const out = await handleLaunchBatch(
      h.rt,
      batch(sqsRecord('{"order":1}', arn, 'o1'), sqsRecord('{"order":2}', arn, 'o2')),
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(1);
    expect(h.queue.sent).toHaveLength(1);
    const waiting = h.queue.sent[0]!.message;
    expect((await h.store.getRun(waiting.runId))?.status).toBe('queued');
    // Still full: it goes back again, not lost.
    await handleLaunchBatch(h.rt, batch(sqsRecord(waiting)));
    expect(h.queue.sent).toHaveLength(2);
    // The first run ends, its slot is released; the waiting run launches.
    const first = (await h.store.listRuns({ status: 'running' }))[0]!;
    await h.store.releaseSlot('order-worker', first.runId);
    await handleLaunchBatch(h.rt, batch(sqsRecord(waiting)));
    expect((await h.store.getRun(waiting.runId))?.status).toBe('running');
  });

  it('skips a scheduled run while the previous one runs when overlap is skip', async () => {
    const nightly = job({
      name: 'nightly-report',
      trigger: { schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Asia/Seoul' } },
      task: { image: 'node:22' },
      overlap: 'skip',
    });
    const h = harness([nightly]);
    const first = fixture('scheduler/launch-input.json');
    const second = { ...first, scheduledTime: '2026-03-02T17:00:00Z' };
    await handleLaunchBatch(h.rt, batch(sqsRecord(first)));
    await handleLaunchBatch(h.rt, batch(sqsRecord(second)));
    expect(h.store.runs.size).toBe(1);
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(1);
  });

  it('fails a record it can never act on (unknown job), leaving the rest of the batch done', async () => {
    const h = harness([thumbnail()]);
    const out = await handleLaunchBatch(
      h.rt,
      batch(
        sqsRecord({ type: 'invoke', job: 'nope', requestId: 'x' }, undefined, 'bad'),
        sqsRecord(s3Body(), undefined, 'good'),
      ),
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(h.store.runs.size).toBe(1);
  });

  it('passes a large trigger by reference', async () => {
    const h = harness([thumbnail()]);
    const stored: string[] = [];
    h.rt.deps.storePayload = async (runId, json) => {
      stored.push(json);
      return `s3://berth-payloads/triggers/${runId}.json`;
    };
    const big = { type: 'invoke', job: 'thumbnail', requestId: 'big', payload: { blob: 'x'.repeat(10_000) } };
    await handleLaunchBatch(h.rt, batch(sqsRecord(big)));
    const input = ecsMock.commandCalls(RunTaskCommand)[0]!.args[0].input;
    expect(JSON.stringify(input.overrides).length).toBeLessThan(8192);
    const env = Object.fromEntries(
      input.overrides!.containerOverrides![0]!.environment!.map((e) => [e.name, e.value]),
    );
    expect(env.BERTH_TRIGGER_REF).toMatch(/^s3:\/\/berth-payloads\/triggers\/r[0-9a-z]{20}\.json$/);
    expect(JSON.parse(stored[0]!).payload.blob).toHaveLength(10_000);
  });

  it('redrives a dead-lettered run as a new run with the same trigger', async () => {
    const h = harness([thumbnail()]);
    await handleLaunchBatch(h.rt, batch(sqsRecord(s3Body())));
    const [run] = await h.store.listRuns({});
    await h.store.transition(run!.runId, ['running'], { status: 'failed', deadLettered: true });
    await handleLaunchBatch(
      h.rt,
      batch(sqsRecord({ type: 'redrive', job: 'thumbnail', runId: run!.runId, requestId: 'q' })),
    );
    const runs = await h.store.listRuns({});
    expect(runs).toHaveLength(2);
    const replay = runs.find((r) => r.runId !== run!.runId)!;
    expect(replay.trigger).toEqual(run!.trigger);
    expect(replay.replayOf).toBe(run!.runId);
    expect((await h.store.getRun(run!.runId))?.replayOf).toBeNull();
    expect(replay.status).toBe('queued');
    expect(h.queue.sent.map((s) => s.message)).toEqual([
      { type: 'launch', job: 'thumbnail', runId: replay.runId, attempt: 1 },
    ]);
    expect((await h.store.getRun(run!.runId))?.deadLettered).toBe(false);
    // A second redrive of the same run finds nothing dead-lettered.
    await handleLaunchBatch(
      h.rt,
      batch(sqsRecord({ type: 'redrive', job: 'thumbnail', runId: run!.runId, requestId: 'q2' })),
    );
    expect(h.store.runs.size).toBe(2);
  });

  it('replays a run (the console): a new run with the same trigger, one per request id', async () => {
    const h = harness([thumbnail()]);
    await handleLaunchBatch(h.rt, batch(sqsRecord(s3Body())));
    const [run] = await h.store.listRuns({});
    const replay = (requestId: string) =>
      handleLaunchBatch(
        h.rt,
        batch(sqsRecord({ type: 'replay', job: 'thumbnail', runId: run!.runId, requestId })),
      );
    expect((await replay('q1')).batchItemFailures).toEqual([]);
    const runs = await h.store.listRuns({});
    expect(runs).toHaveLength(2);
    const first = runs.find((r) => r.runId !== run!.runId)!;
    expect(first).toMatchObject({ trigger: run!.trigger, replayOf: run!.runId, status: 'running' });
    // Launched in the same invocation, like any accepted trigger.
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(2);
    // The same message again (SQS delivers at least once): the same run, no second task.
    await replay('q1');
    expect(h.store.runs.size).toBe(2);
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(2);
    // Another request: another replay.
    await replay('q2');
    expect(h.store.runs.size).toBe(3);
    // A run that does not exist is dropped, not retried.
    const out = await handleLaunchBatch(
      h.rt,
      batch(sqsRecord({ type: 'replay', job: 'thumbnail', runId: 'r00000000000000000000', requestId: 'q3' })),
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(h.store.runs.size).toBe(3);
  });
});
