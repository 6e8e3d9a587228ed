/**
 * Local engine benchmark, through the path a user takes: a real `berth dev` process (started with
 * `node bin/berth.js dev`), messages sent to its SQS endpoint with `@aws-sdk/client-sqs`, `berth send` run
 * as a CLI process, the real SQLite queue, and the job's `maxConcurrency` cap on. Each figure is printed next
 * to its baseline, measured in the same run:
 *
 * 1. Backlog: N messages (500 and 2,000) to a queue job with `maxConcurrency: 10`, from the first send to the
 *    last "Job Run Succeeded" event on the engine's `/events` stream; baseline: a bare pool of 10
 *    `child_process.spawn` loops running the same command N times (output to a log file per run, as the
 *    engine does). Also the engine's CPU time per run (from /proc/<pid>/stat), which must stay flat as the
 *    backlog grows.
 * 2. Send latency: `berth send <job> '<json>'` (a fresh CLI process) → the child reading the clock, p50;
 *    baseline: the CLI's own start-up, `node bin/berth.js --help`, spawn to exit, p50.
 *
 * The command is `date +%s%N`: it prints the wall clock in nanoseconds the moment it runs, so "child start"
 * is read from the run's log. The parent's wall clock is `performance.timeOrigin + performance.now()`.
 *
 *   node --import tsx bench/local/run.ts [--sizes 500,2000] [--sends 15]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const SIZES = arg('sizes', '500,2000')
  .split(',')
  .map((s) => Number(s))
  .filter((n) => n > 0);
const SENDS = Number(arg('sends', '15'));
const CAP = 10;
const COMMAND = ['date', '+%s%N'];
const REPO = resolve(import.meta.dirname, '../..');
const BIN = join(REPO, 'bin/berth.js');
const dir = join(REPO, '.tmp', `bench-local-${process.pid}`);
/** Baselines the issue measured before this work (2,000 messages: 32.7 s vs 3.9 s; send ~640 ms p50). */
const BEFORE = 'before: backlog 2,000 = 8.3× bare; berth send → child start ~640 ms p50';

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

function wall(): number {
  return performance.timeOrigin + performance.now();
}

/** The child's clock reading in a log: the last line, nanoseconds since the epoch, in ms. */
function childClock(file: string): number {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const ns = BigInt((lines[lines.length - 1] ?? '').trim());
  return Number(ns / 1000n) / 1000;
}

/** User + system CPU time of a process in ms (Linux). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

function setup(): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'jobs'), { recursive: true });
  const task = `task: { image: 'x', local: { command: ${JSON.stringify(COMMAND)} } }`;
  writeFileSync(
    join(dir, 'jobs/capped.ts'),
    `import { defineJob } from 'berth';\nexport default defineJob({ name: 'capped', maxConcurrency: ${CAP}, trigger: { queue: {} }, ${task} });\n`,
  );
  writeFileSync(
    join(dir, 'jobs/q.ts'),
    `import { defineJob } from 'berth';\nexport default defineJob({ name: 'q', trigger: { queue: {} }, ${task} });\n`,
  );
  mkdirSync(join(dir, 'out'), { recursive: true });
}

/** Bare pool: `size` loops, each spawning the command and waiting for it, until `n` ran. */
async function barePool(n: number, size: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const loop = async () => {
    for (let i = next++; i < n; i = next++) {
      const fd = openSync(join(dir, 'out', `${i % 200}.log`), 'w');
      const child = spawn(COMMAND[0] as string, COMMAND.slice(1), {
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      closeSync(fd);
      await new Promise<void>((r) => child.once('exit', () => r()));
    }
  };
  await Promise.all(Array.from({ length: size }, loop));
  return performance.now() - t0;
}

/** Spawn to exit of a CLI command, ms. */
async function timeCli(args: string[]): Promise<number> {
  const t0 = wall();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`berth ${args.join(' ')} exited ${code}`);
  return wall() - t0;
}

interface Outcome {
  type: string;
  job: string;
  runId: string;
}

/** Follows the engine's `/events` stream. */
async function follow(url: string, onEvent: (e: Outcome) => void): Promise<AbortController> {
  const abort = new AbortController();
  const res = await fetch(`${url}/events`, { signal: abort.signal });
  if (!res.body) throw new Error('no /events body');
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true });
        let end = buf.indexOf('\n\n');
        while (end >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (data) {
            const e = JSON.parse(data.slice(6)) as {
              'detail-type': string;
              detail: { job: string; runId: string };
            };
            onEvent({ type: e['detail-type'], job: e.detail.job, runId: e.detail.runId });
          }
          end = buf.indexOf('\n\n');
        }
      }
    } catch {
      // Aborted at the end.
    }
  })();
  return abort;
}

/** The engine's credentials for its SQS endpoint, from `.berth/credentials` when it writes one. */
function credentials(): { accessKeyId: string; secretAccessKey: string } {
  const file = join(dir, '.berth/credentials');
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    const id = /aws_access_key_id\s*=\s*(\S+)/.exec(text)?.[1];
    const secret = /aws_secret_access_key\s*=\s*(\S+)/.exec(text)?.[1];
    if (id && secret) return { accessKeyId: id, secretAccessKey: secret };
  }
  return { accessKeyId: 'berth', secretAccessKey: 'berth' };
}

async function main(): Promise<void> {
  setup();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const engine: ChildProcess = spawn(
    process.execPath,
    [BIN, 'dev', '-C', dir, '--port', String(port), '--plain'],
    {
      cwd: REPO,
      env: { ...process.env, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  engine.stdout?.on('data', (d) => {
    out = (out + String(d)).slice(-20_000);
  });
  engine.stderr?.on('data', (d) => {
    out = (out + String(d)).slice(-20_000);
  });
  const until = Date.now() + 60_000;
  while (!out.includes('/events')) {
    if (engine.exitCode !== null || Date.now() > until) throw new Error(`berth dev did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = engine.pid as number;

  const succeeded = new Map<string, number>();
  const runOf = new Map<string, (runId: string) => void>();
  const waiters: { job: string; n: number; resolve: () => void }[] = [];
  const events = await follow(url, (e) => {
    if (e.type !== 'Job Run Succeeded') return;
    succeeded.set(e.job, (succeeded.get(e.job) ?? 0) + 1);
    runOf.get(e.job)?.(e.runId);
    for (const w of waiters) if ((succeeded.get(w.job) ?? 0) >= w.n) w.resolve();
  });
  const reach = (job: string, n: number) =>
    new Promise<void>((r) => {
      if ((succeeded.get(job) ?? 0) >= n) return r();
      waiters.push({ job, n, resolve: r });
    });

  const sqs = new SQSClient({ region: 'us-east-1', endpoint: url, credentials: credentials() });
  const queueUrl = `${url}/123456789012/capped`;
  let sent = 0;
  /** Sends n messages as SendMessageBatch requests, 20 in flight at once, so the backlog builds at once. */
  const sendBacklog = async (n: number) => {
    const batches: number[] = [];
    for (let i = 0; i < n; i += 10) batches.push(i);
    let next = 0;
    const sender = async () => {
      for (let b = next++; b < batches.length; b = next++) {
        const i = batches[b] as number;
        const entries = Array.from({ length: Math.min(10, n - i) }, (_, k) => ({
          Id: String(k),
          MessageBody: JSON.stringify({ i: sent + i + k }),
        }));
        const r = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        if (r.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(r.Failed)}`);
      }
    };
    await Promise.all(Array.from({ length: 20 }, sender));
    sent += n;
    return performance.now();
  };

  // Warm up: both sides.
  await barePool(50, CAP);
  await sendBacklog(20);
  await reach('capped', 20);

  // Each size: the bare pool right before and right after berth, so a change in the machine's load during
  // the run shows as a spread between the two and is averaged out of the ratio.
  const backlog: {
    n: number;
    berthMs: number;
    /** When the last message was sent (the backlog complete), from the first send. */
    sendMs: number;
    bareMs: number;
    bare: [number, number];
    cpuPerRun: number;
  }[] = [];
  for (const n of SIZES) {
    const bareBefore = await barePool(n, CAP);
    const target = sent + n;
    const cpu0 = cpuMs(pid);
    const t0 = performance.now();
    const allSent = await sendBacklog(n);
    await reach('capped', target);
    const berthMs = performance.now() - t0;
    const sendMs = allSent - t0;
    const cpuPerRun = (cpuMs(pid) - cpu0) / n;
    const bareAfter = await barePool(n, CAP);
    const bareMs = (bareBefore + bareAfter) / 2;
    backlog.push({ n, berthMs, sendMs, bareMs, bare: [bareBefore, bareAfter], cpuPerRun });
    process.stderr.write(
      `backlog ${n}: berth ${berthMs.toFixed(0)} ms (all sent after ${sendMs.toFixed(0)} ms), bare ${bareBefore.toFixed(0)}/${bareAfter.toFixed(0)} ms, engine CPU ${cpuPerRun.toFixed(2)} ms/run\n`,
    );
  }

  // Send latency: berth send as a CLI process → the child reading the clock; vs CLI start-up.
  const startup: number[] = [];
  const send: number[] = [];
  for (let i = SENDS > 0 ? -2 : 0; i < SENDS; i++) {
    const s = await timeCli(['--help']);
    const ran = new Promise<string>((r) => runOf.set('q', r));
    const t0 = wall();
    await timeCli(['-C', dir, 'send', 'q', JSON.stringify({ i })]);
    const runId = await ran;
    const log = join(dir, '.berth/logs', `${runId}.1.log`);
    if (i >= 0) {
      startup.push(s);
      send.push(childClock(log) - t0);
    }
  }

  events.abort();
  engine.kill('SIGTERM');
  await new Promise<void>((r) => (engine.exitCode !== null ? r() : engine.once('exit', () => r())));
  sqs.destroy();
  rmSync(dir, { recursive: true, force: true });

  const f = (x: number, w = 8) => x.toFixed(1).padStart(w);
  const lines = [
    `berth local engine benchmark — a real berth dev process, command ${JSON.stringify(COMMAND)}, node ${process.version}`,
    '',
    `backlog: N messages (SendMessageBatch to the SQS endpoint, 20 requests in flight) to a queue job with maxConcurrency ${CAP}, first send → last "Job Run Succeeded"`,
    `  vs a bare pool of ${CAP} spawn loops running the command N times (goal ≤ 1.5×)`,
    '      N   berth ms (all sent at)   bare ms (before / after)   ratio   engine CPU ms/run',
    ...backlog.map(
      (b) =>
        `  ${String(b.n).padStart(5)} ${f(b.berthMs, 10)} (${b.sendMs.toFixed(0)}) ${f(b.bareMs, 10)} (${b.bare.map((x) => x.toFixed(0)).join(' / ')})  ${(b.berthMs / b.bareMs).toFixed(2).padStart(5)}×  ${f(b.cpuPerRun, 10)}`,
    ),
    '',
    `send latency: berth send (CLI process) → child start vs CLI start-up (berth --help), n=${SENDS} (goal ≤ 2×)`,
    `  CLI start-up p50 ${f(pct(startup, 50))} ms   send → child start p50 ${f(pct(send, 50))} ms   ratio ${(pct(send, 50) / pct(startup, 50)).toFixed(2)}×   (p90 ${f(pct(send, 90))} ms)`,
    '',
    BEFORE,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
