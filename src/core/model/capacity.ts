/** Capacity helpers the runtime needs without loading the job schemas (and zod) of `task.ts`. */
import type { Capacity } from './task.js';

/** True when the job runs on the EC2 capacity provider. */
export function isEc2Capacity(capacity: Capacity): capacity is { provider: 'ec2' } {
  return typeof capacity === 'object' && capacity.provider === 'ec2';
}
