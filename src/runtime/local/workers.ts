/**
 * `berth dev` for `mode: 'service'` queue jobs: a pool of long-running worker processes per job, sized by the
 * same backlog-per-task rule as the ECS service on AWS (src/core/scaling), between `minTasks` and `maxTasks`,
 * with immediate scale-out and a scale-in cool-down. Scale-in sends SIGTERM to the newest worker, which drains
 * like on ECS.
 *
 * Workers talk to the engine's SQS endpoint exactly as they talk to SQS on AWS (`berth/worker`, or any SQS
 * client with `AWS_ENDPOINT_URL_SQS`): this module serves the three calls a worker makes — ReceiveMessage
 * (long polling), ChangeMessageVisibility and DeleteMessage — on the engine's durable queues, plus
 * `GET /api/workers` (worker counts over time) for scripts and the dashboard.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { parseDuration } from '../../core/duration.js';
import type { Job } from '../../core/model/job.js';
import {
  evaluateScaling,
  type ResolvedServiceOptions,
  type ScalerState,
  scalerOptions,
  serviceOptionsOf,
} from '../../core/scaling/backlog.js';
import type { QueueStats } from './api.js';
import { credentialsEnv, type DevCredentials } from './credentials.js';
import { commandFor } from './launcher.js';
import type { QueueMessage, ReceiveOptions } from './queue.js';
import {
  integerParam,
  LOCAL_ACCOUNT_ID,
  parseSqsInput,
  SqsError,
  sendSqsFailure,
  sendSqsResult,
  sqsAction,
} from './sqs.js';

/** The engine's queue operations the pool needs (SqliteQueues implements them). */
export interface WorkerQueues {
  receive(queue: string, options: ReceiveOptions): QueueMessage[];
  delete(receiptHandle: string): boolean;
  changeVisibility(receiptHandle: string, ms: number): boolean;
  stats(queue: string): QueueStats;
}

export interface WorkerPoolsOptions {
  jobs: readonly Job[];
  queues: WorkerQueues;
  /** Engine queue name of a job (the engine's `jobQueueName`). */
  engineQueueName: (job: string) => string;
  /** SQS queue name the job is addressed by (the engine's `queueNameOf`). */
  sqsQueueName: (job: Job) => string | undefined;
  /** `http://127.0.0.1:<port>` of the engine. */
  baseUrl: string;
  /** Project root (commands run there). */
  root: string;
  /** Folder for worker logs (`<job>-<n>.log`). */
  logDir: string;
  /** Extra environment from the dev config. */
  env?: Record<string, string>;
  /** The engine's credential: workers sign their SQS calls with it. */
  credentials?: DevCredentials;
  log: (line: string) => void;
  /** Scaling evaluation period. @default 1000 */
  tickMs?: number;
  /** Current time (tests). */
  now?: () => number;
}

export interface WorkerCountPoint {
  /** ISO time of the change. */
  at: string;
  workers: number;
  /** Visible messages when the count changed. */
  visible: number;
}

export interface WorkerPoolStatus {
  job: string;
  minTasks: number;
  maxTasks: number;
  backlogPerTask: number;
  /** Workers wanted now. */
  desired: number;
  /** Worker processes alive now (draining ones included). */
  running: number;
  history: WorkerCountPoint[];
}

const WORKER_ACTIONS = new Set(['ReceiveMessage', 'DeleteMessage', 'ChangeMessageVisibility']);
/** The largest worker call body read (the calls carry a queue URL, a receipt handle and a few numbers). */
export const WORKER_MAX_REQUEST_BYTES = 64 * 1024;
/** SQS: visibility timeouts are 0 to 12 hours; ReceiveMessage waits 0–20 s for 1–10 messages. */
const MAX_VISIBILITY_SECONDS = 43_200;
const MAX_HISTORY = 500;

interface Worker {
  id: number;
  child: ChildProcess;
  /** Asked to stop (scale-in or shutdown): it drains, then exits. */
  stopping: boolean;
  exited: Promise<void>;
}

class Pool {
  readonly options: ResolvedServiceOptions;
  state: ScalerState;
  workers: Worker[] = [];
  history: WorkerCountPoint[] = [];
  private nextId = 1;
  private logs = new Map<number, WriteStream>();

  constructor(
    readonly job: Job,
    private readonly parent: WorkerPools,
  ) {
    const queue = job.triggers.find((t) => t.kind === 'queue');
    const options = queue && serviceOptionsOf(queue);
    if (!options) throw new Error(`${job.name} is not a service-mode job`);
    this.options = options;
    this.state = { current: options.minTasks };
  }

  get live(): Worker[] {
    return this.workers.filter((w) => !w.stopping);
  }

  tick(now: number): void {
    const visible = this.parent.visible(this.job);
    const before = this.state.current;
    const decision = evaluateScaling(this.state, visible, now, scalerOptions(this.options));
    this.state = decision.state;
    if (this.state.current !== before || this.history.length === 0) {
      this.history.push({ at: new Date(now).toISOString(), workers: this.state.current, visible });
      if (this.history.length > MAX_HISTORY) this.history.shift();
      if (this.state.current !== before) {
        this.parent.log(
          `⇅ ${this.job.name}: ${before} → ${this.state.current} worker${this.state.current === 1 ? '' : 's'} (${visible} visible, ${this.options.backlogPerTask} per worker)`,
        );
      }
    }
    // Reconcile processes with the wanted count: crashed workers are replaced, extra ones drain.
    while (this.live.length < this.state.current) this.start();
    const extra = this.live.length - this.state.current;
    if (extra > 0) for (const w of this.live.slice(-extra)) this.stop(w);
  }

  private start(): void {
    const local = this.job.task.local;
    const argv =
      local?.command ??
      (this.job.task.build?.entry !== undefined ? commandFor(this.job).argv : this.job.task.command);
    const id = this.nextId++;
    if (!argv?.length) {
      this.parent.log(`✖ ${this.job.name}: no task.local.command or task.command to run as a worker`);
      this.state = { ...this.state, current: 0 };
      return;
    }
    const [cmd, ...args] = argv as [string, ...string[]];
    mkdirSync(this.parent.opts.logDir, { recursive: true });
    const logFile = createWriteStream(join(this.parent.opts.logDir, `${this.job.name}-${id}.log`), {
      flags: 'a',
    });
    const child = spawn(cmd, args, {
      cwd: join(this.parent.opts.root, local?.cwd ?? '.'),
      env: this.parent.workerEnv(this.job, id),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(logFile, { end: false });
    child.stderr?.pipe(logFile, { end: false });
    this.logs.set(id, logFile);
    const worker: Worker = {
      id,
      child,
      stopping: false,
      exited: new Promise<void>((resolve) => {
        const done = (code: number | null, signal: NodeJS.Signals | null) => {
          this.workers = this.workers.filter((w) => w !== worker);
          this.logs.get(id)?.end();
          this.logs.delete(id);
          if (!worker.stopping) {
            this.parent.log(
              `✖ ${this.job.name} worker ${id} exited on its own (${signal ?? `exit ${code}`}) — starting another`,
            );
          }
          resolve();
        };
        child.once('exit', done);
        child.once('error', (error) => {
          this.parent.log(`✖ ${this.job.name} worker ${id}: ${error.message}`);
          if (child.exitCode === null && child.pid === undefined) done(null, null);
        });
      }),
    };
    this.workers.push(worker);
  }

  stop(worker: Worker): void {
    if (worker.stopping) return;
    worker.stopping = true;
    worker.child.kill('SIGTERM');
  }

  async stopAll(graceMs: number): Promise<void> {
    for (const w of this.workers) this.stop(w);
    const all = Promise.all(this.workers.map((w) => w.exited));
    const timer = setTimeout(() => {
      for (const w of this.workers) w.child.kill('SIGKILL');
    }, graceMs);
    await all;
    clearTimeout(timer);
  }
}

/** The worker pools of every service-mode job of a project. */
export class WorkerPools {
  private readonly pools = new Map<string, Pool>();
  /** SQS queue name → job. */
  private readonly bySqsName = new Map<string, Job>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly opts: WorkerPoolsOptions) {
    for (const job of opts.jobs) {
      const q = job.triggers.find((t) => t.kind === 'queue');
      if (q?.mode !== 'service') continue;
      this.pools.set(job.name, new Pool(job, this));
      const name = opts.sqsQueueName(job);
      if (name) this.bySqsName.set(name, job);
    }
  }

  /** True when the project has service-mode jobs. */
  get active(): boolean {
    return this.pools.size > 0;
  }

  log(line: string): void {
    this.opts.log(line);
  }

  visible(job: Job): number {
    return this.opts.queues.stats(this.opts.engineQueueName(job.name)).visible;
  }

  /** Starts the pools at their minimum and evaluates the backlog rule every tick. */
  start(): void {
    if (!this.active) return;
    const now = this.opts.now ?? Date.now;
    const tick = () => {
      for (const pool of this.pools.values()) pool.tick(now());
    };
    tick();
    this.timer = setInterval(tick, this.opts.tickMs ?? 1000);
  }

  /** Stops every worker (SIGTERM, SIGKILL after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.pools.values()].map((p) => p.stopAll(graceMs)));
  }

  status(): WorkerPoolStatus[] {
    return [...this.pools.values()].map((p) => ({
      job: p.job.name,
      minTasks: p.options.minTasks,
      maxTasks: p.options.maxTasks,
      backlogPerTask: p.options.backlogPerTask,
      desired: p.state.current,
      running: p.workers.length,
      history: p.history,
    }));
  }

  workerEnv(job: Job, id: number): NodeJS.ProcessEnv {
    const name = this.opts.sqsQueueName(job) ?? job.name;
    return {
      ...process.env,
      ...this.opts.env,
      ...job.task.environment,
      ...job.task.local?.env,
      BERTH_JOB: job.name,
      BERTH_MODE: 'service',
      BERTH_WORKER: String(id),
      BERTH_QUEUE_URL: `${this.opts.baseUrl}/${LOCAL_ACCOUNT_ID}/${name}`,
      // Any SQS client in the worker reaches the engine instead of AWS.
      AWS_ENDPOINT_URL_SQS: this.opts.baseUrl,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      // The engine's credential of this start; a session token from the user's shell would not belong to it.
      ...(this.opts.credentials
        ? credentialsEnv(this.opts.credentials)
        : { AWS_ACCESS_KEY_ID: 'berth-dev', AWS_SECRET_ACCESS_KEY: 'berth-dev' }),
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
    };
  }

  /** True for `GET /api/workers` (worker counts over time); worker SQS calls are told by `isWorkerCall`. */
  handles(req: IncomingMessage): boolean {
    return req.method === 'GET' && (req.url ?? '').split('?')[0] === '/api/workers';
  }

  /**
   * Answers `GET /api/workers`, or a worker's SQS call whose body `raw` the engine's HTTP server already
   * read (capped) and whose signature it checked (`admitSqsCall`).
   */
  async serve(req: IncomingMessage, res: ServerResponse, raw?: Buffer): Promise<void> {
    if (req.method === 'GET') return reply(res, 200, { workers: this.status() });
    if (raw === undefined) throw new Error('a worker call must be admitted (capped and signed) first');
    try {
      await this.serveCall(req, res, raw);
    } catch (error) {
      sendSqsFailure(res, error);
    }
  }

  private async serveCall(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const action = sqsAction(req);
    const input = parseSqsInput(raw);
    const job = this.jobOfUrl(input.QueueUrl);
    if (!job) {
      throw new SqsError(
        'QueueDoesNotExist',
        'AWS.SimpleQueueService.NonExistentQueue',
        `The specified queue does not exist: no service-mode job reads ${String(input.QueueUrl)}.`,
      );
    }
    const queue = this.opts.engineQueueName(job.name);
    if (action === 'DeleteMessage') {
      this.opts.queues.delete(receiptHandleOf(input));
      return sendSqsResult(res, {});
    }
    if (action === 'ChangeMessageVisibility') {
      const handle = receiptHandleOf(input);
      if (input.VisibilityTimeout === undefined || input.VisibilityTimeout === null) {
        throw new SqsError(
          'MissingParameter',
          'MissingParameter',
          'The request must contain the parameter VisibilityTimeout.',
        );
      }
      const seconds = integerParam(
        'VisibilityTimeout',
        input.VisibilityTimeout,
        0,
        MAX_VISIBILITY_SECONDS,
        0,
      );
      this.opts.queues.changeVisibility(handle, (seconds as number) * 1000);
      return sendSqsResult(res, {});
    }
    // ReceiveMessage, with long polling up to WaitTimeSeconds.
    const trigger = job.triggers.find((t) => t.kind === 'queue');
    const max = integerParam('MaxNumberOfMessages', input.MaxNumberOfMessages, 1, 10, 1) as number;
    const visibilitySeconds = integerParam(
      'VisibilityTimeout',
      input.VisibilityTimeout,
      0,
      MAX_VISIBILITY_SECONDS,
      undefined,
    );
    const visibilityMs =
      visibilitySeconds !== undefined
        ? visibilitySeconds * 1000
        : parseDuration(trigger?.visibilityTimeout ?? '30s');
    const waitMs = (integerParam('WaitTimeSeconds', input.WaitTimeSeconds, 0, 20, 0) as number) * 1000;
    const deadline = Date.now() + waitMs;
    let closed = false;
    res.once('close', () => {
      closed = true;
    });
    for (;;) {
      const messages = this.opts.queues.receive(queue, {
        max,
        visibilityMs,
        ...(trigger ? { maxReceiveCount: trigger.maxReceiveCount, fifo: trigger.fifo } : {}),
      });
      if (messages.length > 0 || Date.now() >= deadline || closed) {
        if (closed) {
          // The worker gave up the poll (it is stopping): hand the messages straight back.
          for (const m of messages) this.opts.queues.changeVisibility(m.receiptHandle, 0);
          return;
        }
        return sendSqsResult(res, { Messages: messages.map(toSqsMessage) });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private jobOfUrl(url: unknown): Job | undefined {
    if (typeof url !== 'string') return undefined;
    try {
      const name = new URL(url).pathname.split('/').filter(Boolean).pop();
      return name ? this.bySqsName.get(name) : undefined;
    } catch {
      return undefined;
    }
  }
}

function toSqsMessage(m: QueueMessage): Record<string, unknown> {
  const attributes: Record<string, string> = {
    ApproximateReceiveCount: String(m.receiveCount),
    SentTimestamp: String(m.sentAt),
    ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
  };
  if (m.groupId) attributes.MessageGroupId = m.groupId;
  return {
    MessageId: m.messageId,
    ReceiptHandle: m.receiptHandle,
    MD5OfBody: md5(m.body),
    Body: m.body,
    Attributes: attributes,
    ...(m.attributes ? { MessageAttributes: m.attributes } : {}),
  };
}

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/** True for a worker's SQS call (ReceiveMessage, DeleteMessage, ChangeMessageVisibility). */
export function isWorkerCall(req: IncomingMessage): boolean {
  const target = req.headers['x-amz-target'];
  return (
    req.method === 'POST' &&
    typeof target === 'string' &&
    target.startsWith('AmazonSQS.') &&
    WORKER_ACTIONS.has(target.slice('AmazonSQS.'.length))
  );
}

function receiptHandleOf(input: Record<string, unknown>): string {
  const handle = input.ReceiptHandle;
  if (handle === undefined || handle === null || handle === '') {
    throw new SqsError(
      'MissingParameter',
      'MissingParameter',
      'The request must contain the parameter ReceiptHandle.',
    );
  }
  if (typeof handle !== 'string') {
    throw new SqsError(
      'ReceiptHandleIsInvalid',
      'ReceiptHandleIsInvalid',
      `The input receipt handle ${JSON.stringify(handle)} is not a valid receipt handle.`,
    );
  }
  return handle;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
