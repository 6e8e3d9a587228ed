/**
 * The SDK clients of the Lambdas, one factory each, so every one honours region and endpoint. No S3 here:
 * a module the handlers import statically must not import the S3 client, or the bundler loads it at every
 * cold start (the Lambdas load it on first use, see s3PayloadStore.ts; the CLI gets it from clients.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
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

export const createSqsClient = (options: ClientOptions) => new SQSClient(base(options));
export const createEventBridgeClient = (options: ClientOptions) => new EventBridgeClient(base(options));
export const createSchedulerClient = (options: ClientOptions) => new SchedulerClient(base(options));
/** S3 settings: path-style addressing against a local endpoint (moto), whose host has no bucket names. */
export const s3ClientConfig = (options: ClientOptions) => ({
  ...base(options),
  ...(options.endpoint ? { forcePathStyle: true } : {}),
});
