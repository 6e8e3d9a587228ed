/**
 * The SDK clients every berth Lambda uses on its common path, one factory each, so every one honours region
 * and endpoint. Clients of rare paths live in modules of their own that the Lambdas load on first use
 * (`import()`, a chunk of its own in the bundle): SQS and Scheduler in queueClients.ts (a retry or a delayed
 * launch), S3 in s3PayloadStore.ts (a large trigger). A module the handlers import statically must not import
 * those clients, or the bundler loads them at every cold start. The CLI gets all six from clients.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ClientOptions {
  region?: string;
  endpoint?: string;
}

export function base(options: ClientOptions) {
  return {
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  };
}

/**
 * ECS is called with 2 SDK attempts only: a throttled launch goes back to the launch queue with a delay
 * instead of holding the Lambda in SDK back-off (the deterministic clientToken makes the SDK retry safe).
 */
export function createEcsClient(options: ClientOptions): ECSClient {
  return new ECSClient({ ...base(options), maxAttempts: 2 });
}

export function createDocumentClient(options: ClientOptions): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(base(options)), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

export const createEventBridgeClient = (options: ClientOptions) => new EventBridgeClient(base(options));
/** S3 settings: path-style addressing against a local endpoint (moto), whose host has no bucket names. */
export const s3ClientConfig = (options: ClientOptions) => ({
  ...base(options),
  ...(options.endpoint ? { forcePathStyle: true } : {}),
});
