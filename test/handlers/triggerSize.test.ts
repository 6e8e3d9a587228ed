/**
 * Issue 12, defects 2 and 3 at unit level (the moto tier runs them against DynamoDB's real item limit): a
 * queue body is kept once in the run record and a large trigger goes to the payload store when it is
 * accepted; inline vs by-reference is decided on the serialized RunTask overrides, not the trigger's length.
 */
import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  compactTrigger,
  MAX_STORED_TRIGGER_BYTES,
  planTriggerStorage,
  type TriggerPayload,
  taskTrigger,
  triggerRef,
} from '../../src/core/lifecycle/trigger.js';
import { ECS_OVERRIDES_LIMIT, overridesLength } from '../../src/runtime/aws/ecsTaskLauncher.js';
import { handleLaunchBatch } from '../../src/runtime/aws/launcher.js';
import { job, sqsRecord } from '../runtime/aws/support.js';
import { harness } from './harness.js';

const ecsMock = mockClient(ECSClient);
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:berth-demo-test-orders';
const orders = job({ name: 'orders', trigger: { queue: {} }, task: { image: 'node:22' } });

function setup() {
  const h = harness([orders], { 'berth-demo-test-orders': 'orders' });
  const stored: { runId: string; json: string; job: string }[] = [];
  h.rt.deps.storePayload = async (runId, json, jobName) => {
    stored.push({ runId, json, job: jobName });
    return `s3://berth-payloads/triggers/${jobName}/${runId}.json`;
  };
  return { ...h, stored };
}

function env(): Record<string, string> {
  const input = ecsMock.commandCalls(RunTaskCommand).at(-1)!.args[0].input;
  return Object.fromEntries(
    input.overrides!.containerOverrides![0]!.environment!.map((e) => [e.name ?? '', e.value ?? '']),
  );
}

describe('queue bodies in the run record', () => {
  beforeEach(() => {
    ecsMock.reset();
    ecsMock
      .on(RunTaskCommand)
      .resolves({ tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/b/t' }] });
  });

  it('keeps a JSON body once (no parsed copy); the task still gets `json`', async () => {
    const h = setup();
    const body = JSON.stringify({ order: 42, note: 'n'.repeat(2000) });
    await handleLaunchBatch(h.rt, { Records: [sqsRecord(body, QUEUE_ARN, 'm-1')] } as SQSEvent);
    const [run] = await h.store.listRuns({});
    expect(run!.trigger).toMatchObject({ kind: 'queue', body });
    expect(run!.trigger).not.toHaveProperty('json');
    expect(JSON.parse(env().BERTH_TRIGGER!)).toMatchObject({ body, json: { order: 42 } });
    expect(h.stored).toEqual([]);
  });

  it('a 1 MiB body is stored once in the payload store at accept; the record keeps a stub and the reference', async () => {
    const h = setup();
    const body = JSON.stringify({ blob: 'x'.repeat(1_048_576 - 20) });
    expect(body.length).toBeLessThanOrEqual(1_048_576);
    await handleLaunchBatch(h.rt, { Records: [sqsRecord(body, QUEUE_ARN, 'm-big')] } as SQSEvent);
    const [run] = await h.store.listRuns({});
    expect(h.stored).toHaveLength(1);
    const ref = `s3://berth-payloads/triggers/orders/${run!.runId}.json`;
    expect(run!.trigger).toEqual({
      kind: 'queue',
      queue: 'berth-demo-test-orders',
      messageId: 'm-big',
      body: '',
      receiveCount: 1,
      ref,
    });
    expect(JSON.stringify(run!.trigger).length).toBeLessThan(1000);
    // The stored payload is what the task reads: the whole trigger, body and parsed json.
    const full = JSON.parse(h.stored[0]!.json) as Extract<TriggerPayload, { kind: 'queue' }>;
    expect(full.body).toBe(body);
    expect((full.json as { blob: string }).blob).toHaveLength(1_048_576 - 20);
    // The launch reuses the reference (no second write) and the overrides stay small.
    expect(env().BERTH_TRIGGER_REF).toBe(ref);
    expect(JSON.parse(env().BERTH_TRIGGER!)).toEqual({ kind: 'queue', ref });
    expect(overridesLength(ecsMock.commandCalls(RunTaskCommand)[0]!.args[0].input)).toBeLessThan(2000);
  });

  it('planTriggerStorage: inline up to the limit (compact), spilled above it', () => {
    const small: TriggerPayload = {
      kind: 'queue',
      queue: 'q',
      messageId: 'm',
      body: '{"a":1}',
      json: { a: 1 },
    };
    expect(planTriggerStorage(small)).toEqual({ kind: 'inline', stored: compactTrigger(small) });
    expect(taskTrigger(compactTrigger(small))).toEqual(small);
    const big: TriggerPayload = {
      kind: 'manual',
      requestId: 'r',
      payload: 'é'.repeat(MAX_STORED_TRIGGER_BYTES / 2),
    };
    // Bytes, not characters: DynamoDB counts UTF-8 bytes.
    expect(planTriggerStorage(big).kind).toBe('spill');
    expect(triggerRef({ ...big, ref: 'file:///x' } as TriggerPayload)).toBe('file:///x');
  });
});

describe('RunTask overrides measured as ECS counts them', () => {
  beforeEach(() => {
    ecsMock.reset();
    ecsMock
      .on(RunTaskCommand)
      .resolves({ tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/b/t' }] });
  });

  it('a quote-dense body under 6,000 trigger characters whose overrides would pass 8,192 goes by reference', async () => {
    const h = setup();
    const body = '"'.repeat(2311);
    const trigger = JSON.stringify({
      kind: 'queue',
      queue: 'berth-demo-test-orders',
      messageId: 'm-q',
      body,
    });
    // The old rule (trigger ≤ 6,000 characters → inline) would have sent it inline.
    expect(trigger.length).toBeLessThan(6000);
    await handleLaunchBatch(h.rt, { Records: [sqsRecord(body, QUEUE_ARN, 'm-q')] } as SQSEvent);
    const input = ecsMock.commandCalls(RunTaskCommand)[0]!.args[0].input;
    expect(env().BERTH_TRIGGER_REF).toMatch(/^s3:\/\/berth-payloads\/triggers\/orders\/r[0-9a-z]{20}\.json$/);
    expect(JSON.stringify(input.overrides).length).toBeLessThanOrEqual(ECS_OVERRIDES_LIMIT);
    expect((JSON.parse(h.stored[0]!.json) as { body: string }).body).toBe(body);
    // Inline, the same trigger would have been over the limit.
    const inline = {
      overrides: {
        containerOverrides: [
          {
            name: 'main',
            environment: [
              ...input.overrides!.containerOverrides![0]!.environment!.filter(
                (e) => e.name !== 'BERTH_TRIGGER' && e.name !== 'BERTH_TRIGGER_REF',
              ),
              { name: 'BERTH_TRIGGER', value: h.stored[0]!.json },
            ],
          },
        ],
      },
    };
    expect(JSON.stringify(inline.overrides).length).toBeGreaterThan(ECS_OVERRIDES_LIMIT);
  });

  it('a plain trigger that fits stays inline', async () => {
    const h = setup();
    await handleLaunchBatch(h.rt, { Records: [sqsRecord('hello', QUEUE_ARN, 'm-s')] } as SQSEvent);
    expect(env().BERTH_TRIGGER_REF).toBeUndefined();
    expect(JSON.parse(env().BERTH_TRIGGER!)).toMatchObject({ body: 'hello' });
  });

  it('never calls RunTask with overrides over the limit (no payload store to fall back on)', async () => {
    const h = harness([orders], { 'berth-demo-test-orders': 'orders' });
    h.rt.deps.storePayload = undefined;
    await handleLaunchBatch(h.rt, { Records: [sqsRecord('"'.repeat(4000), QUEUE_ARN, 'm-x')] } as SQSEvent);
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(0);
    const [attempt] = await h.store.listAttempts((await h.store.listRuns({}))[0]!.runId);
    expect(attempt?.reason).toMatch(/RunTask overrides would be \d+ characters \(ECS allows 8192\)/);
  });
});
