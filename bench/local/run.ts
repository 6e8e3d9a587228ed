/**
 * Local engine benchmark: trigger-to-spawn latency (p50/p99) for queue messages and bucket files, and
 * sustained runs/s with a command that exits at once, each against a bare `child_process.spawn` loop of the
 * same command in the same process, printed as ratios.
 *
 *   node --import tsx bench/local/run.ts [--n 200]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { putObject } from '../../src/runtime/local/buckets.js';
import { LocalEngine } from '../../src/runtime/local/engine.js';

const N = Number(process.argv[process.argv.indexOf('--n') + 1]) || 200;
const COMMAND = ['true'];
const root = resolve(import.meta.dirname, '../..');
const dir = join(root, '.tmp', `bench-local-${process.pid}`);

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

/** Bare loop: time from deciding to spawn to the 'spawn' event, one at a time. */
async function bareLatency(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const child = spawn(COMMAND[0] as string, COMMAND.slice(1), { stdio: 'ignore', detached: true });
    await new Promise<void>((r) => child.once('spawn', () => r()));
    out.push(performance.now() - t0);
    await new Promise<void>((r) => child.once('exit', () => r()));
  }
  return out;
}

/** Bare throughput: n spawns at once, until all exited. */
async function bareThroughput(n: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, () => {
      const child = spawn(COMMAND[0] as string, COMMAND.slice(1), { stdio: 'ignore', detached: true });
      return new Promise<void>((r) => child.once('exit', () => r()));
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

function setup(): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'jobs'), { recursive: true });
  const task = `task: { image: 'x', local: { command: ${JSON.stringify(COMMAND)} } }`;
  writeFileSync(
    join(dir, 'jobs/q.ts'),
    `import { defineJob } from 'berth';\nexport default defineJob({ name: 'q', trigger: { queue: {} }, ${task} });\n`,
  );
  writeFileSync(
    join(dir, 'jobs/b.ts'),
    `import { defineJob } from 'berth';\nexport default defineJob({ name: 'b', trigger: { s3: { bucket: 'bench', suffix: '.bin' } }, ${task} });\n`,
  );
  writeFileSync(
    join(dir, 'jobs/m.ts'),
    `import { defineJob } from 'berth';\nexport default defineJob({ name: 'm', ${task} });\n`,
  );
}

async function main(): Promise<void> {
  setup();
  const engine = await LocalEngine.start({ root: dir, port: 0, driver: 'process', log: () => {} });
  const started = new Map<string, (t: number) => void>();
  const finished = new Set<string>();
  let onFinish: (() => void) | undefined;
  engine.subscribe((e) => {
    if (e.type !== 'outcome') return;
    const d = e.event.detail;
    if (e.event['detail-type'] === 'Job Run Started') started.get(d.job)?.(performance.now());
    if (e.event['detail-type'] === 'Job Run Succeeded') {
      finished.add(d.runId);
      onFinish?.();
    }
  });
  const nextStart = (job: string) => new Promise<number>((r) => started.set(job, r));
  const nextEnd = () => new Promise<void>((r) => (onFinish = r));

  // Warm up both paths.
  await bareLatency(20);
  const queueUrl = `${engine.info.url}/123456789012/q`;
  const sendOne = (body: string) =>
    fetch(engine.info.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
      body: JSON.stringify({ QueueUrl: queueUrl, MessageBody: body }),
    });

  const queue: number[] = [];
  for (let i = -10; i < N; i++) {
    const waitStart = nextStart('q');
    const waitEnd = nextEnd();
    const t0 = performance.now();
    await sendOne(`{"i":${i}}`);
    const t1 = await waitStart;
    if (i >= 0) queue.push(t1 - t0);
    await waitEnd;
  }
  const bucketN = Math.min(N, 50);
  const bucket: number[] = [];
  writeFileSync(join(dir, 'payload.bin'), 'x'.repeat(1024));
  for (let i = -3; i < bucketN; i++) {
    const waitStart = nextStart('b');
    const waitEnd = nextEnd();
    const t0 = performance.now();
    putObject(engine.paths.buckets, 'bench', join(dir, 'payload.bin'), `k${i}.bin`);
    const t1 = await waitStart;
    if (i >= 0) bucket.push(t1 - t0);
    await waitEnd;
  }
  const bare = await bareLatency(N);

  // Throughput: N manual runs accepted at once, until all succeeded.
  finished.clear();
  const tt0 = performance.now();
  const accepted = await Promise.all(Array.from({ length: N }, () => engine.invoke('m')));
  await new Promise<void>((resolveAll) => {
    const check = () =>
      accepted.every((a) => a.status === 'accepted' && finished.has(a.runId)) ? resolveAll() : undefined;
    onFinish = check;
    check();
  });
  const berthRps = N / ((performance.now() - tt0) / 1000);
  const bareRps = await bareThroughput(N);
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });

  const f = (x: number) => x.toFixed(2).padStart(8);
  const b50 = pct(bare, 50);
  const b99 = pct(bare, 99);
  const lines = [
    `berth local engine benchmark — command ${JSON.stringify(COMMAND)}, n=${N} (bucket n=${bucketN}), node ${process.version}`,
    '',
    'trigger-to-spawn latency (ms)       p50       p99   ratio p50  ratio p99  (vs bare spawn)',
    `  bare child_process.spawn     ${f(b50)}  ${f(b99)}`,
    `  queue message (SQS endpoint) ${f(pct(queue, 50))}  ${f(pct(queue, 99))}  ${f(pct(queue, 50) / b50)}×  ${f(pct(queue, 99) / b99)}×`,
    `  bucket file (berth put)      ${f(pct(bucket, 50))}  ${f(pct(bucket, 99))}  ${f(pct(bucket, 50) / b50)}×  ${f(pct(bucket, 99) / b99)}×`,
    '',
    `throughput (runs/s, ${N} at once)  berth ${berthRps.toFixed(1)}   bare ${bareRps.toFixed(1)}   ratio ${(bareRps / berthRps).toFixed(2)}× slower`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
