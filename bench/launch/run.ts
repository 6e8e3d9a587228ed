/**
 * Launch benchmark: 1,000 S3 events through the real launcher code (batching, partial failures, pacing,
 * throttle re-enqueue) against a fake ECS that enforces both Fargate quotas a launch meets: the RunTask API
 * (20 calls/s, burst and sustained) and the task launch bucket (100 burst, 20/s). Each of `--concurrency`
 * workers plays one launcher Lambda instance with its own runtime (its own pacer), as on AWS. Store and queue
 * are in memory and count their operations; ECS is called over HTTP with the real SDK client.
 *
 * Headline: seconds until every event has its task, next to the minimum the quotas allow for one task per
 * call; RunTask calls per task (goal ≤ 1.3) and run-store operations per task.
 *
 *   node --import tsx bench/launch/run.ts [--events 1000] [--concurrency 5]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { build } from 'esbuild';
import { validateJob } from '../../src/core/model/validate.js';
import { createEcsClient } from '../../src/runtime/aws/clients.js';
import { handleLaunchBatch } from '../../src/runtime/aws/launcher.js';
import type { BerthManifest } from '../../src/runtime/aws/manifest.js';
import { MemoryRunStore } from '../../src/runtime/aws/memoryRunStore.js';
import { createAwsRuntime } from '../../src/runtime/aws/runtime.js';
import type { LaunchMessage, LaunchQueue } from '../../src/runtime/ports.js';
import { ECS_QUOTAS, startFakeEcs } from './fakeEcs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const EVENTS = arg('events', 1000);
/** Concurrent launcher invocations (the ESM's MaximumConcurrency). */
const CONCURRENCY = arg('concurrency', 5);
const BATCH = 10;
/** The launcher's timeout: a record is in flight at most this long (AWS: the queue's visibility is 6× it). */
const VISIBILITY_MS = 30_000;
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:bench-launch';

/** An SQS-like queue: delays, visibility timeout for failed records, receive in batches. */
class BenchQueue implements LaunchQueue {
  private seq = 0;
  readonly messages = new Map<string, { body: string; visibleAt: number }>();
  sent = 0;
  received = 0;
  deleted = 0;
  async enqueue(message: LaunchMessage, delayMs: number): Promise<void> {
    this.put(JSON.stringify(message), Math.min(delayMs, 900_000));
  }
  put(body: string, delayMs = 0): void {
    this.sent++;
    this.messages.set(`m${++this.seq}`, { body, visibleAt: Date.now() + delayMs });
  }
  receive(max: number): SQSRecord[] {
    const now = Date.now();
    const out: SQSRecord[] = [];
    for (const [id, m] of this.messages) {
      if (m.visibleAt > now) continue;
      m.visibleAt = now + VISIBILITY_MS;
      this.received++;
      out.push({
        messageId: id,
        receiptHandle: id,
        body: m.body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(now),
          SenderId: 'bench',
          ApproximateFirstReceiveTimestamp: String(now),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: QUEUE_ARN,
        awsRegion: 'us-east-1',
      });
      if (out.length >= max) break;
    }
    return out;
  }
  delete(id: string): void {
    this.deleted++;
    this.messages.delete(id);
  }
}

/** The store as every worker sees it: each method call counted as one run-store operation. */
function countedStore(store: MemoryRunStore): { store: MemoryRunStore; ops: Record<string, number> } {
  const ops: Record<string, number> = {};
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        ops[key] = (ops[key] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, ops };
}

/** Fastest time to start `n` tasks at one task per RunTask call under both buckets. */
function minimumSeconds(n: number): number {
  const byApi = Math.max(0, n - ECS_QUOTAS.runTaskBurst) / ECS_QUOTAS.runTaskPerSecond;
  const byLaunches = Math.max(0, n - ECS_QUOTAS.taskBurst) / ECS_QUOTAS.taskPerSecond;
  return Math.max(byApi, byLaunches);
}

async function bundleLauncher(): Promise<{ bytes: number; loadMs: number }> {
  const outDir = join(root, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'launcher.mjs');
  await build({
    entryPoints: [join(root, 'src', 'handlers', 'launcher.ts')],
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    banner: { js: "import{createRequire as __cr}from'module';const require=__cr(import.meta.url);" },
    logLevel: 'silent',
  });
  const bytes = statSync(outfile).size;
  const loads: number[] = [];
  for (let i = 0; i < 5; i++) {
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const t=performance.now();await import(${JSON.stringify(`file://${outfile}`)});console.log(performance.now()-t)`,
      ],
      { encoding: 'utf8' },
    );
    if (child.status !== 0) throw new Error(`loading the bundle failed: ${child.stderr}`);
    loads.push(Number(child.stdout.trim()));
  }
  loads.sort((a, b) => a - b);
  return { bytes, loadMs: loads[Math.floor(loads.length / 2)] ?? Number.NaN };
}

async function main(): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  const ecsFake = await startFakeEcs();
  const parsed = validateJob(
    { name: 'thumbnail', trigger: { s3: { bucket: 'bench-bucket' } }, task: { image: 'node:22' } },
    'jobs/thumbnail.ts',
  );
  if (!parsed.ok) throw new Error('bench job invalid');
  const manifest: BerthManifest = {
    version: 1,
    service: 'bench',
    stage: 'bench',
    jobs: [parsed.job],
    tasks: {
      thumbnail: { family: 'bench-thumbnail', containerName: 'main', logGroup: '/bench', hasTaskRole: false },
    },
    queues: {},
  };
  const queue = new BenchQueue();
  const store = new MemoryRunStore();
  const counted = countedStore(store);
  const ecs = createEcsClient({ region: 'us-east-1', endpoint: ecsFake.endpoint });
  // One runtime per worker: a Lambda instance of its own, pacing itself at its share of the quotas.
  const runtimeOf = () =>
    createAwsRuntime(
      {
        region: 'us-east-1',
        cluster: 'bench',
        runsTable: 'bench',
        eventBus: 'bench',
        launchQueueUrl: 'memory://bench-launch',
        launchQueueArn: QUEUE_ARN,
        subnets: ['subnet-1'],
        securityGroups: ['sg-1'],
        assignPublicIp: false,
        runTtlDays: 1,
        launchConcurrency: CONCURRENCY,
      },
      manifest,
      {
        clients: { ecs },
        store: counted.store,
        queue,
        events: { publish: async () => {} },
      },
    );

  for (let i = 0; i < EVENTS; i++) {
    queue.put(
      JSON.stringify({
        type: 's3',
        job: 'thumbnail',
        event: {
          'detail-type': 'Object Created',
          source: 'aws.s3',
          time: '2026-03-01T10:00:00Z',
          detail: {
            bucket: { name: 'bench-bucket' },
            object: { key: `images/${i}.jpg`, size: 1024, sequencer: (0x1000 + i).toString(16) },
          },
        },
      }),
    );
  }
  const initialMessages = queue.sent;
  const started = performance.now();
  let failedItems = 0;
  let done = false;
  const launchedAll = () => {
    let running = 0;
    for (const r of store.runs.values()) if (r.status === 'running') running++;
    return running >= EVENTS;
  };
  const worker = async () => {
    const rt = runtimeOf();
    while (!done) {
      const records = queue.receive(BATCH);
      if (!records.length) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const out = await handleLaunchBatch(rt, { Records: records } as SQSEvent);
      const failed = new Set(out.batchItemFailures.map((f) => f.itemIdentifier));
      failedItems += failed.size;
      for (const r of records) if (!failed.has(r.messageId)) queue.delete(r.messageId);
    }
  };
  const deadline = Date.now() + 180_000;
  const workers = Array.from({ length: CONCURRENCY }, worker);
  while (!launchedAll() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seconds = (performance.now() - started) / 1000;
  done = true;
  await Promise.all(workers);
  await ecsFake.close();

  const theoretical = minimumSeconds(EVENTS);
  const runs = [...store.runs.values()];
  // Lost: an event whose run never reached a task. Duplicate: a run with more than one task.
  let duplicates = 0;
  const lost = EVENTS - runs.filter((r) => r.status === 'running').length;
  for (const r of runs) if ((ecsFake.tasksByStartedBy.get(`berth/${r.runId}`)?.size ?? 0) > 1) duplicates++;
  const tasks = [...ecsFake.tasksByStartedBy.values()].reduce((n, s) => n + s.size, 0);
  const runTaskCalls = ecsFake.stats.calls.RunTask ?? 0;
  const apiCalls = Object.values(ecsFake.stats.calls).reduce((n, c) => n + c, 0);
  const storeOps = Object.values(counted.ops).reduce((n, c) => n + c, 0);
  const perTask = (n: number) => Number((n / Math.max(1, tasks)).toFixed(2));
  const bundle = await bundleLauncher();
  const result = {
    events: EVENTS,
    concurrency: CONCURRENCY,
    secondsToAllLaunched: Number(seconds.toFixed(2)),
    theoreticalMinimumSeconds: theoretical,
    ratioToMinimum: Number((seconds / theoretical).toFixed(3)),
    runTaskCallsPerTask: perTask(runTaskCalls),
    runTaskCallsPerTaskGoal: 1.3,
    storeOpsPerTask: perTask(storeOps),
    queueSendsPerTask: perTask(queue.sent - initialMessages),
    lost,
    duplicates,
    runs: runs.length,
    tasksStarted: tasks,
    ecsCalls: ecsFake.stats.calls,
    ecsApiCalls: apiCalls,
    throttledByRunTaskApi: ecsFake.stats.apiThrottled,
    throttledByTaskLaunches: ecsFake.stats.launchThrottled,
    clientTokenReplays: ecsFake.stats.replayedTokens,
    storeOps,
    storeOpsByMethod: counted.ops,
    queueReceives: queue.received,
    queueDeletes: queue.deleted,
    requeuedMessages: queue.sent - initialMessages,
    failedBatchItems: failedItems,
    launcherBundleBytes: bundle.bytes,
    launcherBundleKiB: Number((bundle.bytes / 1024).toFixed(1)),
    coldModuleLoadMs: Number(bundle.loadMs.toFixed(1)),
  };
  console.log(JSON.stringify(result, null, 2));
  if (lost !== 0 || duplicates !== 0) process.exitCode = 1;
}

await main();
