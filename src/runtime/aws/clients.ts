/** SDK clients of the CLI (all six; the factories live in sdkClients.ts, shared with the Lambdas). */
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createSchedulerClient, createSqsClient } from './queueClients.js';
import {
  type ClientOptions,
  createDocumentClient,
  createEcsClient,
  createEventBridgeClient,
  s3ClientConfig,
} from './sdkClients.js';

export { createSchedulerClient, createSqsClient } from './queueClients.js';
export {
  type ClientOptions,
  createDocumentClient,
  createEcsClient,
  createEventBridgeClient,
  s3ClientConfig,
} from './sdkClients.js';

export interface AwsClients {
  ecs: ECSClient;
  ddb: DynamoDBDocumentClient;
  sqs: SQSClient;
  events: EventBridgeClient;
  scheduler: SchedulerClient;
  s3: S3Client;
}

export const createS3Client = (options: ClientOptions) => new S3Client(s3ClientConfig(options));

/**
 * All six clients at once (the CLI). The Lambdas import the factories they need one by one instead, so a
 * bundle carries no SDK package it does not use (see runtime.ts).
 */
export function createClients(options: ClientOptions): AwsClients {
  return {
    ecs: createEcsClient(options),
    ddb: createDocumentClient(options),
    sqs: createSqsClient(options),
    events: createEventBridgeClient(options),
    scheduler: createSchedulerClient(options),
    s3: createS3Client(options),
  };
}
