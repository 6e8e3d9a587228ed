/**
 * The S3 side of the payload store, loaded by the Lambdas only when a payload goes to the bucket (see
 * `deferredPayloadStore` in runtime.ts): its own module, building its own client, so the bundler keeps the
 * S3 client (which costs more to load than the ECS one) out of the Lambdas' cold start.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { s3PayloadStore } from './payloadStore.js';
import { type ClientOptions, s3ClientConfig } from './sdkClients.js';

export function createS3PayloadStore(options: ClientOptions, bucket: string, s3?: S3Client) {
  return s3PayloadStore(s3 ?? new S3Client(s3ClientConfig(options)), bucket);
}
