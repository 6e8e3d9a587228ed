/**
 * Wires the AWS adapters into the lifecycle's ports. Handlers build one `AwsRuntime` per cold start;
 * tests and the benchmark build theirs with their own clients, store or queue.
 */
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { Job } from '../../core/model/job.js';
import {
  type Clock,
  type EventPublisher,
  type LaunchQueue,
  type LifecycleDeps,
  systemClock,
} from '../ports.js';
import type { AwsRunStore } from './awsRunStore.js';
import { type AwsClients, createClients } from './clients.js';
import { type AwsRuntimeConfig, configFromEnv } from './config.js';
import { DynamoRunStore } from './dynamoRunStore.js';
import { EcsTaskLauncher } from './ecsTaskLauncher.js';
import { EventBridgePublisher, OutboxPublisher } from './eventBridgePublisher.js';
import { type BerthManifest, loadManifest } from './manifest.js';
import { s3PayloadStore } from './payloadStore.js';
import { SqsLaunchQueue } from './sqsLaunchQueue.js';

export interface AwsRuntime {
  deps: LifecycleDeps & { store: AwsRunStore };
  store: AwsRunStore;
  queue: LaunchQueue;
  ecs: ECSClient;
  manifest: BerthManifest;
  config: AwsRuntimeConfig;
  clock: Clock;
  jobs: Map<string, Job>;
}

export function jobIndex(manifest: BerthManifest): Map<string, Job> {
  return new Map(manifest.jobs.map((j) => [j.name, j]));
}

export interface RuntimeOverrides {
  clients?: Partial<AwsClients>;
  store?: AwsRunStore;
  queue?: LaunchQueue;
  events?: EventPublisher;
  clock?: Clock;
}

export function createAwsRuntime(
  config: AwsRuntimeConfig,
  manifest: BerthManifest,
  overrides: RuntimeOverrides = {},
): AwsRuntime {
  const clients = {
    ...createClients({ region: config.region, endpoint: config.endpoint }),
    ...overrides.clients,
  };
  const clock = overrides.clock ?? systemClock;
  const store =
    overrides.store ??
    new DynamoRunStore(clients.ddb, config.runsTable, { ttlDays: config.runTtlDays, now: () => clock.now() });
  const queue =
    overrides.queue ??
    new SqsLaunchQueue(clients.sqs, {
      queueUrl: config.launchQueueUrl,
      queueArn: config.launchQueueArn,
      clock,
      scheduler: clients.scheduler,
      scheduleGroup: config.scheduleGroup,
      schedulerRoleArn: config.schedulerRoleArn,
    });
  const events = new OutboxPublisher(
    overrides.events ?? new EventBridgePublisher(clients.events, config.eventBus),
    store,
  );
  const launcher = new EcsTaskLauncher(clients.ecs, {
    cluster: config.cluster,
    manifest,
    network: {
      subnets: config.subnets,
      securityGroups: config.securityGroups,
      assignPublicIp: config.assignPublicIp,
    },
  });
  const deps: AwsRuntime['deps'] = {
    store,
    launcher,
    queue,
    events,
    clock,
    environment: 'aws',
    ...(config.payloadBucket ? { storePayload: s3PayloadStore(clients.s3, config.payloadBucket) } : {}),
  };
  return { deps, store, queue, ecs: clients.ecs, manifest, config, clock, jobs: jobIndex(manifest) };
}

let cached: AwsRuntime | undefined;

/** The runtime of this Lambda, from its environment and bundled manifest (built once per cold start). */
export function runtimeFromEnv(): AwsRuntime {
  cached ??= createAwsRuntime(configFromEnv(), loadManifest());
  return cached;
}
