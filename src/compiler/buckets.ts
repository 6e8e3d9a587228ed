/**
 * S3 sends events to EventBridge only when the bucket says so. For a bucket the stack owns (an
 * `AWS::S3::Bucket` in the service's resources with that `BucketName`) berth turns it on; for any other
 * bucket it is a one-time step the README describes.
 */
import type { Job } from '../core/model/job.js';
import type { CfnValue, Resources } from './cfn.js';

export function triggerBuckets(jobs: readonly Job[]): string[] {
  const buckets = new Set<string>();
  for (const job of jobs) for (const t of job.triggers) if (t.kind === 's3') buckets.add(t.bucket);
  return [...buckets].sort();
}

/**
 * Enables EventBridge notifications on every owned trigger bucket (mutating `resources`, the service's
 * own). Returns the trigger buckets the stack does not own.
 */
export function enableEventBridgeOnOwnedBuckets(resources: Resources, buckets: readonly string[]): string[] {
  const external: string[] = [];
  for (const bucket of buckets) {
    const owned = Object.values(resources).find(
      (r) => r.Type === 'AWS::S3::Bucket' && r.Properties?.BucketName === bucket,
    );
    if (!owned) {
      external.push(bucket);
      continue;
    }
    owned.Properties ??= {};
    const existing = (owned.Properties.NotificationConfiguration ?? {}) as Record<string, CfnValue>;
    owned.Properties.NotificationConfiguration = {
      ...existing,
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    };
  }
  return external;
}
