/** Lambda: SQS batches from the launch queue and queue jobs' own queues → Fargate tasks. */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handleLaunchBatch } from '../runtime/aws/launcher.js';
import { runtimeFromEnv } from '../runtime/aws/runtime.js';

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  handleLaunchBatch(runtimeFromEnv(), event, context);
