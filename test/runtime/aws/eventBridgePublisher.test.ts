import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { OutcomeEvent } from '../../../src/core/lifecycle/events.js';
import { EventBridgePublisher, OutboxPublisher } from '../../../src/runtime/aws/eventBridgePublisher.js';

const ebMock = mockClient(EventBridgeClient);
const publisher = new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), 'berth-demo');

function event(type: OutcomeEvent['detail-type']): OutcomeEvent {
  return {
    source: 'berth',
    'detail-type': type,
    time: '2026-03-01T10:00:00.000Z',
    detail: {
      job: 'thumbnail',
      runId: 'r1',
      attempt: 1,
      taskArn: 'arn:aws:ecs:us-east-1:111122223333:task/c/t',
    } as OutcomeEvent['detail'],
  };
}

describe('EventBridgePublisher', () => {
  beforeEach(() => ebMock.reset());

  it('puts the event on berth’s bus', async () => {
    ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    await publisher.publish(event('Job Run Succeeded'));
    const entry = ebMock.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({
      EventBusName: 'berth-demo',
      Source: 'berth',
      DetailType: 'Job Run Succeeded',
      Resources: ['arn:aws:ecs:us-east-1:111122223333:task/c/t'],
    });
    expect(JSON.parse(entry?.Detail ?? '{}')).toMatchObject({ job: 'thumbnail', runId: 'r1' });
  });

  it('throws when EventBridge rejects the entry', async () => {
    ebMock
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'x' }] });
    await expect(publisher.publish(event('Job Run Failed'))).rejects.toThrow(/InternalFailure/);
  });

  it('clears the outbox mark only after a final event went out', async () => {
    const store = {
      markEventPublished: vi.fn(async () => {}),
      markRetryEventPublished: vi.fn(async () => {}),
    };
    const inner = { publish: vi.fn(async () => {}) };
    const outbox = new OutboxPublisher(inner, store);
    await outbox.publish(event('Job Run Started'));
    expect(store.markEventPublished).not.toHaveBeenCalled();
    expect(store.markRetryEventPublished).not.toHaveBeenCalled();
    await outbox.publish(event('Job Run Failed'));
    expect(store.markEventPublished).toHaveBeenCalledWith('r1');
    inner.publish.mockRejectedValueOnce(new Error('down'));
    await expect(outbox.publish(event('Job Run Succeeded'))).rejects.toThrow('down');
    expect(store.markEventPublished).toHaveBeenCalledTimes(1);
  });

  it('closes the Retrying event outbox entry of its attempt once the event went out', async () => {
    const store = {
      markEventPublished: vi.fn(async () => {}),
      markRetryEventPublished: vi.fn(async () => {}),
    };
    const inner = { publish: vi.fn(async () => {}) };
    const outbox = new OutboxPublisher(inner, store);
    inner.publish.mockRejectedValueOnce(new Error('down'));
    await expect(outbox.publish(event('Job Run Retrying'))).rejects.toThrow('down');
    expect(store.markRetryEventPublished).not.toHaveBeenCalled();
    await outbox.publish(event('Job Run Retrying'));
    expect(store.markRetryEventPublished).toHaveBeenCalledWith('r1', 1);
    expect(store.markEventPublished).not.toHaveBeenCalled();
  });
});
