/** SDK clients of the berth Lambdas and CLI, built in one place so every one honours region and endpoint. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ClientOptions {
  region?: string;
  endpoint?: string;
}

export interface AwsClients {
  ecs: ECSClient;
  ddb: DynamoDBDocumentClient;
  sqs: SQSClient;
  events: EventBridgeClient;
  scheduler: SchedulerClient;
  s3: S3Client;
}

function base(options: ClientOptions) {
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

export function createClients(options: ClientOptions): AwsClients {
  return {
    ecs: createEcsClient(options),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient(base(options)), {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    }),
    sqs: new SQSClient(base(options)),
    events: new EventBridgeClient(base(options)),
    scheduler: new SchedulerClient(base(options)),
    s3: new S3Client({ ...base(options), ...(options.endpoint ? { forcePathStyle: true } : {}) }),
  };
}
