/**
 * Trigger payloads too large for the run record or for RunTask overrides go to the payload bucket under the
 * job's own prefix (`triggers/<job>/<runId>.json`); the task gets `s3://…` and reads it with its task role.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { triggerPayloadKey } from './payloadKeys.js';

export function s3PayloadStore(s3: S3Client, bucket: string) {
  return async (runId: string, json: string, job: string): Promise<string> => {
    const key = triggerPayloadKey(job, runId);
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: json, ContentType: 'application/json' }),
    );
    return `s3://${bucket}/${key}`;
  };
}
