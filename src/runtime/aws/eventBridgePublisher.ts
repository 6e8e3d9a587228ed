/** `EventPublisher` on berth's EventBridge bus, with the final-event outbox mark cleared after publishing. */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EVENT_TYPES, FINAL_EVENT_TYPES, type OutcomeEvent } from '../../core/lifecycle/events.js';
import type { EventPublisher } from '../ports.js';
import type { AwsRunStore } from './awsRunStore.js';

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly events: EventBridgeClient,
    private readonly bus: string,
  ) {}

  async publish(event: OutcomeEvent): Promise<void> {
    const out = await this.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.bus,
            Source: event.source,
            DetailType: event['detail-type'],
            Detail: JSON.stringify(event.detail),
            Time: new Date(event.time),
            Resources: event.detail.taskArn ? [event.detail.taskArn] : [],
          },
        ],
      }),
    );
    if ((out.FailedEntryCount ?? 0) > 0) {
      const entry = out.Entries?.[0];
      throw new Error(
        `PutEvents rejected the event: ${entry?.ErrorCode ?? '?'} ${entry?.ErrorMessage ?? ''}`,
      );
    }
  }
}

/**
 * Wraps a publisher: after a final event is out, clears the run's "event pending" mark that the store set
 * when the run entered its final state. The sweeper republishes runs whose mark stays (a crash between the
 * state write and the publish), so a final event is never lost; a crash after PutEvents and before the mark
 * is cleared can repeat it, so subscribers dedupe on `detail.runId` + `detail-type`.
 */
export class OutboxPublisher implements EventPublisher {
  constructor(
    private readonly inner: EventPublisher,
    private readonly store: Pick<AwsRunStore, 'markEventPublished' | 'markRetryEventPublished'>,
  ) {}

  async publish(event: OutcomeEvent): Promise<void> {
    await this.inner.publish(event);
    if (FINAL_EVENT_TYPES.includes(event['detail-type']))
      await this.store.markEventPublished(event.detail.runId);
    // A Retrying event has its own outbox entry per attempt (opened with the retry's transition).
    else if (event['detail-type'] === EVENT_TYPES.retrying)
      await this.store.markRetryEventPublished(event.detail.runId, event.detail.attempt);
  }
}
