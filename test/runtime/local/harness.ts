/** Test harness: temporary berth projects under .tmp/ and real `berth dev` processes. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { type DevCredentials, readCredentialsFile } from '../../../src/runtime/local/credentials.js';
import { signRequest } from '../../../src/runtime/local/sigv4.js';
import { freePort } from '../../helpers/serverProcess.js';

export const REPO = resolve(import.meta.dirname, '../../..');
export const BIN = join(REPO, 'bin/berth.js');

/** The task every test job runs: logs its spawn, sleeps, fails the first `failTimes` attempts. */
const TASK = `import { appendFileSync } from 'node:fs';
const t = JSON.parse(process.env.BERTH_TRIGGER ?? '{}');
const p = t.json ?? t.payload ?? {};
const line = (what) => appendFileSync('spawns.log', [process.env.BERTH_JOB, process.env.BERTH_RUN_ID, process.env.BERTH_ATTEMPT, what, Date.now()].join(' ') + '\\n');
line('start');
if (p.ignoreTerm) process.on('SIGTERM', () => { line('sigterm'); });
console.log('hello from', process.env.BERTH_JOB, 'attempt', process.env.BERTH_ATTEMPT, 'key', t.key ?? '');
await new Promise((r) => setTimeout(r, p.sleepMs ?? Number(process.env.SLEEP_MS ?? 0)));
line('end');
process.exit(Number(process.env.BERTH_ATTEMPT) <= (p.failTimes ?? 0) ? (p.exitCode ?? 1) : 0);
`;

export function makeProject(
  name: string,
  jobs: Record<string, string>,
  extra: Record<string, string> = {},
): string {
  const dir = join(REPO, '.tmp', `${name}-${process.pid}-${Date.now().toString(36)}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'jobs'), { recursive: true });
  mkdirSync(join(dir, 'tasks'), { recursive: true });
  writeFileSync(join(dir, 'tasks/rec.mjs'), TASK);
  for (const [file, body] of Object.entries(jobs)) {
    writeFileSync(
      join(dir, 'jobs', `${file}.ts`),
      `import { defineJob } from 'berth';\nexport default defineJob(${body});\n`,
    );
  }
  for (const [file, body] of Object.entries(extra)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), body);
  }
  return dir;
}

/** A job body with the recording task. */
export function job(name: string, rest: string): string {
  return `{ name: '${name}', task: { image: 'node:22-alpine', local: { command: ['node', 'tasks/rec.mjs'] } }, ${rest} }`;
}

/** Two jobs a request may reach: `orders` (queue-triggered) and `mailer`, an idle queue service. */
export const QUEUE_AND_SERVICE_JOBS = {
  orders: job('orders', `trigger: { queue: {} }`),
  mailer: `{
      name: 'mailer',
      trigger: { queue: { mode: 'service', service: { minTasks: 0, maxTasks: 1, backlogPerTask: 100 } } },
      task: { image: 'node:22-alpine', local: { command: ['node', '-e', 'setInterval(() => {}, 1000)'] } },
    }`,
};

export { freePort };

export interface EngineProc {
  proc: ChildProcess;
  port: number;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop: () => Promise<void>;
}

export async function startEngine(
  dir: string,
  options: { env?: Record<string, string>; waitReady?: boolean; port?: number } = {},
): Promise<EngineProc> {
  const port = options.port ?? (await freePort());
  const proc = spawn(process.execPath, [BIN, 'dev', '-C', dir, '--port', String(port), '--plain'], {
    cwd: REPO,
    env: { ...process.env, CI: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d) => {
    out += String(d);
  });
  proc.stderr?.on('data', (d) => {
    out += String(d);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('exit', (code, signal) => r({ code, signal })),
  );
  const engine: EngineProc = {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    exited,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  if (options.waitReady !== false) {
    await waitFor(
      () => out.includes('/events') || proc.exitCode !== null,
      20_000,
      () => out,
    );
    if (proc.exitCode !== null) throw new Error(`berth dev exited early:\n${out}`);
  }
  return engine;
}

export async function waitFor<T>(
  fn: () => T | undefined | false,
  timeoutMs = 15_000,
  describe?: () => string,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting${describe ? `:\n${describe()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RunRow {
  run_id: string;
  job: string;
  status: string;
  attempt: number;
  outcome: string | null;
  exit_code: number | null;
  reason: string | null;
  created_at: string;
}

/** Reads the runs table (read-only, a fresh connection each time). */
export function runs(dir: string, jobName?: string): RunRow[] {
  const file = join(dir, '.berth/dev.db');
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    db.pragma('busy_timeout = 2000');
    const hasRuns = db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'runs'`).get();
    if (!hasRuns) return [];
    return (
      jobName
        ? db.prepare('SELECT * FROM runs WHERE job = ? ORDER BY created_at').all(jobName)
        : db.prepare('SELECT * FROM runs ORDER BY created_at').all()
    ) as RunRow[];
  } finally {
    db.close();
  }
}

export function sql<T>(dir: string, query: string, ...params: unknown[]): T[] {
  const db = new Database(join(dir, '.berth/dev.db'));
  try {
    db.pragma('busy_timeout = 2000');
    const stmt = db.prepare(query);
    if (stmt.reader) return stmt.all(...params) as T[];
    stmt.run(...params);
    return [];
  } finally {
    db.close();
  }
}

export interface Spawn {
  job: string;
  runId: string;
  attempt: number;
  what: string;
  at: number;
}

export function spawns(dir: string): Spawn[] {
  const file = join(dir, 'spawns.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [job, runId, attempt, what, at] = l.split(' ');
      return {
        job: job as string,
        runId: runId as string,
        attempt: Number(attempt),
        what: what as string,
        at: Number(at),
      };
    });
}

/** Runs the CLI to completion. */
export function cli(dir: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, '-C', dir, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The credential a running `berth dev` wrote to `<dir>/.berth/credentials`. */
export function engineCredentials(dir: string): DevCredentials {
  const creds = readCredentialsFile(join(dir, '.berth', 'credentials'));
  if (!creds) throw new Error(`${dir}/.berth/credentials: no berth-dev profile (is berth dev running?)`);
  return creds;
}

/** An SQS JSON-protocol call to the engine, signed (SigV4) with the engine's credential unless told otherwise. */
export async function sqsCall(
  engineUrl: string,
  dir: string,
  action: string,
  input: unknown,
  options: { credentials?: DevCredentials | 'none'; headers?: Record<string, string> } = {},
): Promise<Response> {
  const body = typeof input === 'string' ? input : JSON.stringify(input);
  const base = {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': `AmazonSQS.${action}`,
    ...options.headers,
  };
  const headers =
    options.credentials === 'none'
      ? base
      : await signRequest({
          credentials: options.credentials ?? engineCredentials(dir),
          url: `${engineUrl}/`,
          headers: base,
          body,
        });
  // fetch sets host itself; the signature covers the same value.
  const { host: _host, ...rest } = headers as Record<string, string>;
  return fetch(`${engineUrl}/`, { method: 'POST', headers: rest, body });
}
