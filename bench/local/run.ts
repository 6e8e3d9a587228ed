/**
 * Local engine benchmark: trigger-to-spawn latency (p50/p99) for queue messages and bucket files, and
 * sustained runs/s, each against a bare `child_process.spawn` loop of the same command in the same process,
 * printed as ratios.
 *
 * Both sides measure the same event: the child reading the clock. The command is `date +%s%N`, which
 * prints the wall clock in nanoseconds the moment it runs; latency is that time minus the wall clock when
 * the trigger was sent (berth: before the SQS `SendMessage` request or the `berth put`; bare: right before
 * the `spawn` call). The parent's wall clock is `performance.timeOrigin + performance.now()` (microseconds);
 * the drift of that clock against `Date.now()` over the whole run is printed so a clock step would show.
 *
 *   node --import tsx bench/local/run.ts [--n 200]
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { putObject } from '../../src/runtime/local/buckets.js';
import { LocalEngine } from '../../src/runtime/local/engine.js';

const N = Number(process.argv[process.argv.indexOf('--n') + 1]) || 200;
const COMMAND = ['date', '+%s%N'];
const root = resolve(import.meta.dirname, '../..');
const dir = join(root, '.tmp', `bench-local-${process.pid}`);

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

/** Wall clock in ms with microseconds, on the same scale as the child's `date +%s%N`. */
function wall(): number {
  return performance.timeOrigin + performance.now();
}

/** The child's clock reading: the last line of its output, nanoseconds since the epoch, in ms. */
function childClock(file: string): number {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const ns = BigInt((lines[lines.length - 1] ?? '').trim());
  return Number(ns / 1000n) / 1000;
}

/** Bare loop: from right before the `spawn` call to the child reading the clock, one at a time. */
async function bareLatency(n: number): Promise<number[]> {
  const out: number[] = [];
  const file = join(dir, 'bare.out');
  for (let i = 0; i < n; i++) {
    const fd = openSync(file, 'w');
    const t0 = wall();
    const child = spawn(COMMAND[0] as string, COMMAND.slice(1), {
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    await new Promise<void>((r) => child.once('exit', () => r()));
    out.push(childClock(file) - t0);
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
  const drift0 = Date.now() - wall();
  const engine = await LocalEngine.start({ root: dir, port: 0, driver: 'process', log: () => {} });
  const started = new Map<string, (t: number) => void>();
  const ended = new Map<string, (runId: string) => void>();
  const finished = new Set<string>();
  let onFinish: (() => void) | undefined;
  engine.subscribe((e) => {
    if (e.type !== 'outcome') return;
    const d = e.event.detail;
    if (e.event['detail-type'] === 'Job Run Started') started.get(d.job)?.(wall());
    if (e.event['detail-type'] === 'Job Run Succeeded') {
      finished.add(d.runId);
      ended.get(d.job)?.(d.runId);
      onFinish?.();
    }
  });
  const nextStart = (job: string) => new Promise<number>((r) => started.set(job, r));
  const nextEnd = (job: string) => new Promise<string>((r) => ended.set(job, r));
  /** Trigger-to-child-clock and trigger-to-"Job Run Started" of one run. */
  const measure = async (job: string, trigger: () => Promise<unknown> | undefined) => {
    const waitStart = nextStart(job);
    const waitEnd = nextEnd(job);
    const t0 = wall();
    await trigger();
    const tStarted = await waitStart;
    const runId = await waitEnd;
    return { spawn: childClock(engine.logPath(runId, 1)) - t0, event: tStarted - t0 };
  };

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
  const queueEvent: number[] = [];
  for (let i = -10; i < N; i++) {
    const m = await measure('q', () => sendOne(`{"i":${i}}`));
    if (i >= 0) {
      queue.push(m.spawn);
      queueEvent.push(m.event);
    }
  }
  const bucketN = Math.min(N, 50);
  const bucket: number[] = [];
  writeFileSync(join(dir, 'payload.bin'), 'x'.repeat(1024));
  for (let i = -3; i < bucketN; i++) {
    const m = await measure('b', () => {
      putObject(engine.paths.buckets, 'bench', join(dir, 'payload.bin'), `k${i}.bin`);
      return undefined;
    });
    if (i >= 0) bucket.push(m.spawn);
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
  const drift = Date.now() - wall() - drift0;

  const f = (x: number) => x.toFixed(2).padStart(8);
  const b50 = pct(bare, 50);
  const b99 = pct(bare, 99);
  const row = (label: string, v: number[]) =>
    `  ${label.padEnd(29)}${f(pct(v, 50))}  ${f(pct(v, 99))}  ${f(pct(v, 50) / b50)}×  ${f(pct(v, 99) / b99)}×`;
  const lines = [
    `berth local engine benchmark — command ${JSON.stringify(COMMAND)}, n=${N} (bucket n=${bucketN}), node ${process.version}`,
    '',
    'trigger-to-child-start latency (ms)  p50       p99   ratio p50  ratio p99  (vs bare spawn)',
    `  bare child_process.spawn     ${f(b50)}  ${f(b99)}`,
    row('queue message (SQS endpoint)', queue),
    row('bucket file (berth put)', bucket),
    row('queue → "Job Run Started"', queueEvent),
    '',
    `throughput (runs/s, ${N} at once)  berth ${berthRps.toFixed(1)}   bare ${bareRps.toFixed(1)}   ratio ${(bareRps / berthRps).toFixed(2)}× slower`,
    `(clock drift of performance.now() against Date.now() during the run: ${drift.toFixed(1)} ms)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
