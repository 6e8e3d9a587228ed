/** Trigger payloads too large for RunTask overrides go to the payload bucket; the task gets `s3://…`. */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export function s3PayloadStore(s3: S3Client, bucket: string) {
  return async (runId: string, json: string): Promise<string> => {
    const key = `triggers/${runId}.json`;
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: json, ContentType: 'application/json' }),
    );
    return `s3://${bucket}/${key}`;
  };
}
