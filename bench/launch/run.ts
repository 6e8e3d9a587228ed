/**
 * Launch benchmark: 1,000 S3 events through the real launcher code (batching, partial failures, throttle
 * re-enqueue) against a fake ECS that enforces Fargate's launch token bucket (100 burst, 20/s).
 * Store and queue are in memory; ECS is called over HTTP with the real SDK client.
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
import { startFakeEcs } from './fakeEcs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const EVENTS = arg('events', 1000);
/** Concurrent launcher invocations (the ESM's MaximumConcurrency). */
const CONCURRENCY = arg('concurrency', 5);
const BATCH = 10;
const VISIBILITY_MS = 2000;
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:bench-launch';

/** An SQS-like queue: delays, visibility timeout for failed records, receive in batches. */
class BenchQueue implements LaunchQueue {
  private seq = 0;
  readonly messages = new Map<string, { body: string; visibleAt: number }>();
  sent = 0;
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
    this.messages.delete(id);
  }
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
  const rt = createAwsRuntime(
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
    },
    manifest,
    {
      clients: { ecs: createEcsClient({ region: 'us-east-1', endpoint: ecsFake.endpoint }) },
      store,
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

  const theoretical = Math.max(0, EVENTS - 100) / 20;
  const runs = [...store.runs.values()];
  // Lost: an event whose run never reached a task. Duplicate: a run with more than one task.
  let duplicates = 0;
  const lost = EVENTS - runs.filter((r) => r.status === 'running').length;
  for (const r of runs) if ((ecsFake.tasksByStartedBy.get(`berth/${r.runId}`)?.size ?? 0) > 1) duplicates++;
  const tasks = [...ecsFake.tasksByStartedBy.values()].reduce((n, s) => n + s.size, 0);
  const bundle = await bundleLauncher();
  const result = {
    events: EVENTS,
    concurrency: CONCURRENCY,
    secondsToAllLaunched: Number(seconds.toFixed(2)),
    theoreticalMinimumSeconds: theoretical,
    ratioToMinimum: Number((seconds / theoretical).toFixed(3)),
    lost,
    duplicates,
    runs: runs.length,
    tasksStarted: tasks,
    runTaskCalls: ecsFake.stats.calls,
    throttledCalls: ecsFake.stats.throttled,
    clientTokenReplays: ecsFake.stats.replayedTokens,
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
