/**
 * Wires the AWS adapters into the lifecycle's ports. Handlers build one `AwsRuntime` per cold start, its SDK
 * clients each on first use; tests and the benchmark build theirs with their own clients, store or queue.
 */
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Job } from '../../core/model/job.js';
import {
  type Clock,
  type EventPublisher,
  type LaunchQueue,
  type LifecycleDeps,
  systemClock,
} from '../ports.js';
import type { AwsRunStore } from './awsRunStore.js';
import type { AwsClients } from './clients.js';
import { type AwsRuntimeConfig, configFromEnv } from './config.js';
import { DynamoRunStore } from './dynamoRunStore.js';
import { EcsTaskLauncher } from './ecsTaskLauncher.js';
import { EventBridgePublisher, OutboxPublisher } from './eventBridgePublisher.js';
import { LaunchPacer, PacedTaskLauncher } from './launchPacer.js';
import { type BerthManifest, loadManifest } from './manifest.js';
import {
  type ClientOptions,
  createDocumentClient,
  createEcsClient,
  createEventBridgeClient,
} from './sdkClients.js';

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

/**
 * Stands in for a client and builds it on first use (any property read: `send`, `config`, `destroy`…). A
 * handler wires every adapter at cold start but one invocation uses only some clients (the interceptor never
 * runs a task, a sweep with nothing to retry never schedules); building the others would only cost start-up
 * time.
 */
export function lazy<T extends object>(make: () => T): T {
  let real: T | undefined;
  const target = () => {
    real ??= make();
    return real;
  };
  return new Proxy({} as T, {
    get(_, key) {
      const value = Reflect.get(target(), key);
      return typeof value === 'function' ? value.bind(target()) : value;
    },
    has: (_, key) => Reflect.has(target(), key),
    set: (_, key, value) => Reflect.set(target(), key, value),
  });
}

/**
 * The clients of the common path, each built when first used; `overrides` are used as given. SQS and
 * Scheduler are built with the launch queue (`deferredQueue`), S3 with the payload store.
 */
export function lazyClients(
  options: ClientOptions,
  overrides: Partial<AwsClients> = {},
): Pick<AwsClients, 'ecs' | 'ddb' | 'events'> {
  return {
    ecs: overrides.ecs ?? lazy(() => createEcsClient(options)),
    ddb: overrides.ddb ?? lazy(() => createDocumentClient(options)),
    events: overrides.events ?? lazy(() => createEventBridgeClient(options)),
  };
}

/** A launch queue whose module (and SDK clients) loads on the first `enqueue`. */
export function deferredQueue(load: () => Promise<LaunchQueue>): LaunchQueue {
  let queue: Promise<LaunchQueue> | undefined;
  return {
    async enqueue(message, delayMs) {
      queue ??= load();
      return (await queue).enqueue(message, delayMs);
    },
  };
}

type StorePayload = NonNullable<LifecycleDeps['storePayload']>;

/**
 * The payload bucket, loaded on first use: only triggers too large for the run record or RunTask need it, and
 * the S3 client costs more to load than the ECS one (the bundler puts it in a chunk of its own).
 */
export function deferredPayloadStore(options: ClientOptions, bucket: string, s3?: S3Client): StorePayload {
  let store: Promise<StorePayload> | undefined;
  return async (runId, json, job) => {
    store ??= import('./s3PayloadStore.js').then((m) => m.createS3PayloadStore(options, bucket, s3));
    return (await store)(runId, json, job);
  };
}

export function createAwsRuntime(
  config: AwsRuntimeConfig,
  manifest: BerthManifest,
  overrides: RuntimeOverrides = {},
): AwsRuntime {
  const clientOptions = { region: config.region, endpoint: config.endpoint };
  const clients = lazyClients(clientOptions, overrides.clients);
  const clock = overrides.clock ?? systemClock;
  const store =
    overrides.store ??
    new DynamoRunStore(clients.ddb, config.runsTable, { ttlDays: config.runTtlDays, now: () => clock.now() });
  const queue =
    overrides.queue ??
    deferredQueue(() =>
      import('./queueClients.js').then((m) =>
        m.createSqsLaunchQueue(
          clientOptions,
          {
            queueUrl: config.launchQueueUrl,
            queueArn: config.launchQueueArn,
            clock,
            scheduleGroup: config.scheduleGroup,
            schedulerRoleArn: config.schedulerRoleArn,
          },
          { sqs: overrides.clients?.sqs, scheduler: overrides.clients?.scheduler },
        ),
      ),
    );
  const events = new OutboxPublisher(
    overrides.events ?? new EventBridgePublisher(clients.events, config.eventBus),
    store,
  );
  // RunTask calls wait for this instance's share of the Fargate quotas instead of being throttled.
  const launcher = new PacedTaskLauncher(
    new EcsTaskLauncher(clients.ecs, {
      cluster: config.cluster,
      manifest,
      network: {
        subnets: config.subnets,
        securityGroups: config.securityGroups,
        assignPublicIp: config.assignPublicIp,
      },
    }),
    new LaunchPacer({ instances: config.launchConcurrency ?? 1 }),
  );
  const deps: AwsRuntime['deps'] = {
    store,
    launcher,
    queue,
    events,
    clock,
    environment: 'aws',
    ...(config.payloadBucket
      ? { storePayload: deferredPayloadStore(clientOptions, config.payloadBucket, overrides.clients?.s3) }
      : {}),
  };
  return { deps, store, queue, ecs: clients.ecs, manifest, config, clock, jobs: jobIndex(manifest) };
}

let cached: AwsRuntime | undefined;

/** The runtime of this Lambda, from its environment and bundled manifest (built once per cold start). */
export function runtimeFromEnv(): AwsRuntime {
  cached ??= createAwsRuntime(configFromEnv(), loadManifest());
  return cached;
}
