/**
 * Runs the project's built files in a worker thread, with a time limit. A job file is the user's code: it can
 * call `process.exit()`, await something that never settles, or loop forever. In the main thread the first
 * ends berth with no word, the second makes Node exit 13 when nothing else is pending, and the third cannot
 * be stopped at all (no timer fires while the thread runs). A worker thread can be stopped whatever it is
 * doing (`terminate()`), `process.exit()` there ends only the worker, and the main thread stays free to time
 * it and name the file. The worker reports, file by file, when each starts and how it ended.
 *
 * The worker's code is a plain-JavaScript string (`eval`), so it runs the same from `dist/` and from the
 * TypeScript sources under test, and imports nothing of berth's.
 */
import { Worker } from 'node:worker_threads';
import type { ThrownError } from './loadProblems.js';

/** What a job file default-exports, read in the worker and copied out as plain data. */
export type JobExport = { kind: 'job'; definition: unknown } | { kind: 'no-default' } | { kind: 'not-job' };

export type WorkerMode = 'jobs' | 'probe';

export interface WorkerInput {
  /** One bundle whose default export is one loader per file (`() => import(file)`), or … */
  bundle?: string;
  /** … one module URL per file (`null`: not to be run). */
  files?: (string | null)[];
  /** The indexes of the files to run, in order. */
  order: number[];
  /** `jobs`: report each file's default export as data; `probe`: only whether it loads. */
  mode: WorkerMode;
}

/** How one file ended in the worker. */
export type FileEnd =
  | { status: 'loaded'; value?: JobExport }
  | { status: 'threw'; error: ThrownError }
  /** Started, and still loading when the worker stopped. */
  | {
      status: 'unfinished';
      why: 'never-settles' | 'timeout-waiting' | 'timeout-running' | 'crashed';
      error?: ThrownError;
    }
  /** Never started (the worker stopped first). */
  | { status: 'not-started' };

export interface WorkerOutcome {
  /** Indexed like the files; `undefined` for a file that was not in `order`. */
  ends: (FileEnd | undefined)[];
  /** Set when the bundle itself failed to load (a package it imports threw): nothing ran. */
  bundleError?: ThrownError;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const BRAND = Symbol.for('berth.job');
const isJob = (v) => typeof v === 'object' && v !== null && v[BRAND] === true;
// Packages every file will import (berth) load while the main thread is still building the files.
const ready = Promise.all(workerData.preload.map((url) => import(url).catch(() => undefined)));
parentPort.on('message', (m) => {
  if (m === 'ping') parentPort.postMessage({ type: 'pong' });
  else if (m && m.type === 'run') {
    // From here on, only the files' own work keeps this thread alive (so an await nothing settles ends it).
    parentPort.unref();
    ready.then(() => run(m.input));
  }
});
process.on('uncaughtException', (e) => parentPort.postMessage({ type: 'crash', error: describe(e) }));
// What would end the whole process becomes an error on the file that does it.
function stopped(call) {
  const e = new Error(call + ' called while loading');
  e.berthCall = call;
  return e;
}
process.exit = (code) => {
  throw stopped('process.exit(' + Number(code ?? process.exitCode ?? 0) + ')');
};
const kill = process.kill.bind(process);
process.kill = (pid, signal) => {
  if (Number(pid) !== process.pid) return kill(pid, signal);
  throw stopped('process.kill(process.pid' + (signal === undefined ? '' : ', ' + JSON.stringify(signal)) + ')');
};
function describe(e) {
  if (e && typeof e === 'object') {
    const out = { name: String(e.name ?? 'Error'), message: String(e.message ?? e) };
    if (e.berthCall !== undefined) out.call = e.berthCall;
    return out;
  }
  return { name: 'Error', message: String(e) };
}
function plain(v, seen) {
  if (typeof v === 'function') return '[function ' + (v.name || 'anonymous') + ']';
  if (typeof v === 'symbol' || typeof v === 'bigint') return String(v);
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Date || v instanceof RegExp) return v;
  if (seen.has(v)) return '[circular]';
  seen.add(v);
  const out = Array.isArray(v) ? v.map((x) => plain(x, seen)) : {};
  if (!Array.isArray(v)) for (const k of Object.keys(v)) out[k] = plain(v[k], seen);
  seen.delete(v);
  return out;
}
function exported(mod) {
  const d = mod == null ? undefined : mod.default;
  const inner = d == null ? undefined : d.default;
  const def = inner !== undefined && !isJob(d) && isJob(inner) ? inner : d;
  if (def === undefined) return { kind: 'no-default' };
  if (!isJob(def)) return { kind: 'not-job' };
  return { kind: 'job', definition: plain(def.definition, new Set()) };
}
function post(message) {
  try { parentPort.postMessage(message); }
  catch (e) { parentPort.postMessage({ type: 'failed', i: message.i, error: describe(e) }); }
}
async function run(input) {
  let loads;
  if (input.bundle) {
    try { loads = (await import(input.bundle)).default; }
    catch (e) { parentPort.postMessage({ type: 'bundle-failed', error: describe(e) }); return; }
  } else loads = input.files.map((url) => () => import(url));
  const pending = [];
  for (const i of input.order) {
    parentPort.postMessage({ type: 'start', i });
    const evaluating = input.bundle
      ? Promise.resolve()
      : new Promise((r) => { globalThis.__berthEvaluating = r; });
    let p;
    try { p = Promise.resolve(loads[i]()); } catch (e) { p = Promise.reject(e); }
    p = p.then(
      (mod) => post({ type: 'done', i, value: input.mode === 'jobs' ? exported(mod) : undefined }),
      (e) => post({ type: 'failed', i, error: describe(e) }),
    );
    pending.push(p);
    // The next file starts once this one has finished or is waiting (a top-level await). In a bundle every
    // module is linked already; a separate module first loads its imports, and the next one waits for them
    // (its banner calls __berthEvaluating): two loading at once could both reach one package half-loaded
    // (a CommonJS require() of an ES module being imported).
    await Promise.race([p, evaluating]);
    await Promise.race([p, new Promise((r) => setImmediate(r))]);
  }
  await Promise.all(pending);
  parentPort.postMessage({ type: 'end' });
}
`;

type Message =
  | { type: 'start'; i: number }
  | { type: 'done'; i: number; value?: JobExport }
  | { type: 'failed'; i: number; error: ThrownError }
  | { type: 'bundle-failed'; error: ThrownError }
  | { type: 'crash'; error: ThrownError }
  | { type: 'pong' }
  | { type: 'end' };

/** How long a stopped-looking worker has to answer a ping before it counts as running code. */
const PING_MS = 300;

/**
 * One worker thread for one run of the project's files. It starts at once and loads `preload` (the berth
 * package the files import) while the main thread builds the files; `run` then runs them.
 */
export class LoadWorker {
  private readonly worker: Worker;
  private used = false;

  constructor(preload: readonly string[] = []) {
    // Plain Node: the files are built already, and a loader hook of this process (tsx) would only slow it.
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { preload },
      execArgv: [],
      stdout: true,
    });
    // What a file prints while it loads is a diagnostic: it goes to stderr, so `validate --json` stays JSON.
    this.worker.stdout.pipe(process.stderr, { end: false });
    // An unused worker (nothing to run) is stopped by `terminate`; it never keeps the process alive.
    this.worker.unref();
  }

  /** Stops the thread (whatever it is doing). */
  terminate(): void {
    void this.worker.terminate();
  }

  /**
   * Runs `input` and reports how each file ended. Resolves when every file has ended, the worker stopped by
   * itself (a `process.exit()` from a callback, a top-level await nothing settles), or `timeoutMs` passed.
   * The thread is stopped after; a worker runs once.
   */
  run(input: WorkerInput, timeoutMs: number): Promise<WorkerOutcome> {
    if (this.used) throw new Error('a LoadWorker runs once');
    this.used = true;
    const worker = this.worker;
    return new Promise((resolve) => {
      const ends: (FileEnd | undefined)[] = [];
      for (const i of input.order) ends[i] = { status: 'not-started' };
      const started: number[] = [];
      let crash: ThrownError | undefined;
      let finished = false;
      let pinged: NodeJS.Timeout | undefined;
      const finish = (outcome: WorkerOutcome): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        clearTimeout(pinged);
        worker.removeAllListeners();
        void worker.terminate();
        resolve(outcome);
      };
      /** Marks the files started and not ended with `why`; the one that started last gets `last` when given. */
      const unfinished = (why: 'never-settles' | 'timeout-waiting' | 'crashed', last?: 'timeout-running') => {
        const open = started.filter((i) => ends[i]?.status === 'not-started');
        open.forEach((i, n) => {
          const reason = last && n === open.length - 1 ? last : why;
          ends[i] = { status: 'unfinished', why: reason, ...(crash ? { error: crash } : {}) };
        });
      };
      const timer = setTimeout(() => {
        // Out of time: a worker that answers a ping is waiting (an await); one that doesn't is running code.
        pinged = setTimeout(() => {
          unfinished('timeout-waiting', 'timeout-running');
          finish({ ends });
        }, PING_MS);
        worker.postMessage('ping');
      }, timeoutMs);
      worker.on('message', (m: Message) => {
        switch (m.type) {
          case 'start':
            started.push(m.i);
            break;
          case 'done':
            ends[m.i] = m.value ? { status: 'loaded', value: m.value } : { status: 'loaded' };
            break;
          case 'failed':
            ends[m.i] = { status: 'threw', error: m.error };
            break;
          case 'pong':
            if (!pinged) break;
            unfinished('timeout-waiting');
            finish({ ends });
            break;
          case 'bundle-failed':
            finish({ ends, bundleError: m.error });
            break;
          case 'crash':
            // Thrown from a callback (a timer, an event): the load it belongs to can no longer be trusted.
            crash = m.error;
            unfinished('crashed');
            finish({ ends });
            break;
          case 'end':
            finish({ ends });
            break;
        }
      });
      worker.on('error', (error: Error) => {
        crash = { name: error.name, message: error.message };
      });
      worker.on('exit', () => {
        if (finished) return;
        // The worker stopped by itself before reporting every file: a crash, or nothing left to wait on.
        unfinished(crash ? 'crashed' : 'never-settles');
        finish({ ends });
      });
      worker.ref();
      worker.postMessage({ type: 'run', input });
    });
  }
}
