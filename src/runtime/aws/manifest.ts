/**
 * The contract between the compiler and the AWS handlers. The compiler writes a manifest of the validated
 * jobs and the names it chose; esbuild bundles it into each handler (a `globalThis.__BERTH_MANIFEST__`
 * banner), so handlers never read job files at run time.
 */
import { readFileSync } from 'node:fs';
import type { Job } from '../../core/model/job.js';

export interface ManifestTask {
  /** Task definition family (RunTask `taskDefinition` takes the family: latest ACTIVE revision). */
  family: string;
  /** Name of the job's one essential container. */
  containerName: string;
  logGroup: string;
  /** Task role ARN placeholder resolved at deploy time, or null when the job declares no permissions. */
  hasTaskRole: boolean;
}

export interface BerthManifest {
  version: 1;
  service: string;
  stage: string;
  jobs: Job[];
  tasks: Record<string, ManifestTask>;
  /** Queue name (the last part of the ARN) → job name, for SQS records that arrive at the launcher. */
  queues: Record<string, string>;
  /**
   * Name of the stack's EC2 capacity provider (`custom.berth.capacity.ec2`), where the launcher places jobs
   * with `capacity: { provider: 'ec2' }`. Absent without EC2 capacity (and in manifests older than it).
   */
  ec2CapacityProvider?: string;
}

/** Environment variables the compiler sets on the berth Lambdas. */
export const BERTH_ENV = {
  cluster: 'BERTH_CLUSTER',
  runsTable: 'BERTH_RUNS_TABLE',
  eventBus: 'BERTH_EVENT_BUS',
  launchQueueUrl: 'BERTH_LAUNCH_QUEUE_URL',
  launchQueueArn: 'BERTH_LAUNCH_QUEUE_ARN',
  subnets: 'BERTH_SUBNETS',
  securityGroups: 'BERTH_SECURITY_GROUPS',
  assignPublicIp: 'BERTH_ASSIGN_PUBLIC_IP',
  scheduleGroup: 'BERTH_SCHEDULE_GROUP',
  schedulerRoleArn: 'BERTH_SCHEDULER_ROLE_ARN',
  payloadBucket: 'BERTH_PAYLOAD_BUCKET',
  runTtlDays: 'BERTH_RUN_TTL_DAYS',
  launchConcurrency: 'BERTH_LAUNCH_CONCURRENCY',
} as const;

declare global {
  var __BERTH_MANIFEST__: BerthManifest | undefined;
}

let cached: BerthManifest | undefined;

/** The manifest bundled into this Lambda, or the file named by `BERTH_MANIFEST_PATH` (tests, local runs). */
export function loadManifest(): BerthManifest {
  if (cached) return cached;
  if (globalThis.__BERTH_MANIFEST__) cached = globalThis.__BERTH_MANIFEST__;
  else {
    const path = process.env.BERTH_MANIFEST_PATH;
    if (!path)
      throw new Error(
        'berth manifest missing: the handler was not bundled by berth and BERTH_MANIFEST_PATH is unset',
      );
    cached = JSON.parse(readFileSync(path, 'utf8')) as BerthManifest;
  }
  return cached;
}
