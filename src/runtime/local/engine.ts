/**
 * The local engine behind `berth dev`: the shared run lifecycle (`../lifecycle.ts`) on SQLite, child
 * processes and folders. Triggers (bucket folders, schedules, job queues, invoke) are accepted in one
 * transaction each; launches are driven from the durable launch queue; exits become `recordStop` calls.
 * After `kill -9`, a restart finds the dead engine's children, records them `lost`, and carries on.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FSWatcher } from 'chokidar';
import { parseDuration } from '../../core/duration.js';
import { BerthError } from '../../core/errors.js';
import { BERTH_STOP_REASONS } from '../../core/lifecycle/classify.js';
import { EVENT_TYPES, type OutcomeEvent } from '../../core/lifecycle/events.js';
import { isFinalStatus } from '../../core/lifecycle/states.js';
import type { TriggerPayload } from '../../core/lifecycle/trigger.js';
import type { Json } from '../../core/model/common.js';
import type { Job } from '../../core/model/job.js';
import { loadJobsOrThrow } from '../../loader/loadJobs.js';
import {
  type AcceptResult,
  acceptTrigger,
  launchAttempt,
  publish,
  recordStop,
  replayRun,
} from '../lifecycle.js';
import {
  type LaunchMessage,
  type LifecycleDeps,
  type RunRecord,
  type StopReport,
  systemClock,
} from '../ports.js';
import type { CreateDashboard, LocalEngineApi, LocalEngineEvent, LocalRunFilter, QueueStats } from './api.js';
import { describeEngine } from './banner.js';
import {
  matchesS3Trigger,
  type S3ObjectCreatedEvent,
  s3TriggerPayload,
  watchBuckets,
  watchedBuckets,
} from './buckets.js';
import { type DevConfig, loadDevConfig, type Webhook, webhooksOf } from './config.js';
import { type Db, openDevDb } from './db.js';
import { queueNameOf } from './direct.js';
import { buildDevImages, devDriverFor, dockerAvailable, jobsNeedingDocker } from './docker.js';
import { crashPoint } from './faults.js';
import {
  type Driver,
  type ExitInfo,
  findProcessesOfAttempt,
  isSameProcessAlive,
  killGroup,
  ProcessLauncher,
} from './launcher.js';
import { type DevPaths, devPaths, logFile } from './paths.js';
import { jobQueueName, LAUNCH_QUEUE, type QueueMessage, SqliteLaunchQueue, SqliteQueues } from './queue.js';
import { type ScheduleFire, Scheduler } from './schedules.js';
import { isSqsRequest, serveSqs } from './sqs.js';
import { SqliteRunStore } from './store.js';
import { type TerminalMode, TerminalView } from './terminal.js';
import { TxRunner } from './tx.js';
import { WorkerPools } from './workers.js';

export const DEFAULT_PORT = 4555;
/** How long a received launch stays hidden; a crashed engine's launches come back at once on restart. */
const LAUNCH_VISIBILITY_MS = 60_000;
/** How often the engine looks for writes by other processes (`berth send`, `berth invoke`). */
const POLL_MS = 50;
const SHUTDOWN_REASON = 'berth dev stopped while the attempt ran';
/** How long `stop` waits for outcome events still being delivered (webhooks) before closing the database. */
const STOP_DELIVERY_WAIT_MS = 2000;

export interface EngineOptions {
  root: string;
  jobsDir?: string;
  /** 0 picks a free port. @default berth.dev.json port, else 4555 */
  port?: number;
  driver?: 'auto' | 'process' | 'docker';
  terminal?: TerminalMode;
  /** Print lines here instead of the terminal view (tests). */
  log?: (line: string) => void;
}

export interface EngineInfo {
  pid: number;
  port: number;
  url: string;
  startedAt: string;
}

export class EngineError extends BerthError {
  override name = 'EngineError';
}

/** Reads `.berth/engine.json` when its engine is alive. */
export function runningEngine(paths: DevPaths): EngineInfo | undefined {
  if (!existsSync(paths.engineFile)) return undefined;
  try {
    const info = JSON.parse(readFileSync(paths.engineFile, 'utf8')) as EngineInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}

function outcomeOf(e: OutcomeEvent): OutcomeEvent {
  return { ...e, id: e.id ?? randomUUID() };
}

export class LocalEngine implements LocalEngineApi {
  readonly paths: DevPaths;
  private db!: Db;
  private store!: SqliteRunStore;
  private queues!: SqliteQueues;
  private launcher!: ProcessLauncher;
  private deps!: LifecycleDeps;
  private tx!: TxRunner;
  private scheduler: Scheduler | undefined;
  private watcher: FSWatcher | undefined;
  private server: Server | undefined;
  private config!: DevConfig;
  private webhooks: Webhook[] = [];
  private jobList: Job[] = [];
  private readonly jobsByName = new Map<string, Job>();
  private readonly queueToJob = new Map<string, Job>();
  private readonly listeners = new Set<(e: LocalEngineEvent) => void>();
  private readonly sse = new Set<ServerResponse>();
  private readonly changedRuns = new Set<string>();
  private view: TerminalView | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private draining = false;
  private drainAgain = false;
  private stopping = false;
  private dataVersion = 0;
  private driverName: Driver = 'process';
  private dockerUp = false;
  readonly token = randomUUID().replace(/-/g, '');
  info!: EngineInfo;

  private constructor(private readonly options: EngineOptions) {
    this.paths = devPaths(options.root);
  }

  static async start(options: EngineOptions): Promise<LocalEngine> {
    const engine = new LocalEngine(options);
    await engine.boot();
    return engine;
  }

  private log(line: string): void {
    if (this.options.log) this.options.log(line);
    else this.view?.print(line);
  }

  private async boot(): Promise<void> {
    const paths = this.paths;
    this.config = loadDevConfig(paths.config);
    this.webhooks = webhooksOf(this.config);
    const other = runningEngine(paths);
    if (other && other.pid !== process.pid) {
      throw new EngineError(
        `${paths.engineFile}: another berth dev (pid ${other.pid}) already runs this project on ${other.url} — stop it first`,
      );
    }
    this.jobList = [
      ...(await loadJobsOrThrow({ root: paths.root, jobsDir: this.options.jobsDir ?? 'jobs' })),
    ].sort((a, b) => a.name.localeCompare(b.name));
    for (const job of this.jobList) {
      this.jobsByName.set(job.name, job);
      const q = queueNameOf(job);
      if (q) this.queueToJob.set(q, job);
    }
    mkdirSync(paths.dir, { recursive: true });
    this.db = openDevDb(paths.db);
    this.store = new SqliteRunStore(this.db);
    this.queues = new SqliteQueues(this.db);
    this.tx = new TxRunner(this.db);
    this.tx.afterCommit = (committed) => this.afterCommit(committed);
    this.store.onRunChanged = (id) => this.changedRuns.add(id);
    const launchQueue = new SqliteLaunchQueue(this.queues);
    launchQueue.onEnqueue = () => this.wake();

    const driverChoice = this.options.driver ?? this.config.driver ?? 'auto';
    this.dockerUp = driverChoice !== 'process' && dockerAvailable();
    if (driverChoice === 'docker' && !this.dockerUp) {
      throw new EngineError(
        '--driver docker: no Docker engine answers `docker info` — start Docker or use --driver process',
      );
    }
    const needDocker = jobsNeedingDocker(this.jobList, this.dockerUp);
    if (needDocker.length) throw new EngineError(needDocker.join('\n'));
    if (this.dockerUp) buildDevImages(this.jobList, paths.root, (line) => this.log(line));
    this.driverName = this.dockerUp ? 'docker' : 'process';
    this.launcher = new ProcessLauncher({
      db: this.db,
      paths,
      driverFor: (job) => devDriverFor(job, driverChoice, this.dockerUp),
      outsideTransaction: (fn) => this.tx.outside(fn),
      onExit: (info) =>
        void this.onExit(info).catch((e) =>
          this.log(`✖ recording the exit of ${info.runId}: ${(e as Error).message}`),
        ),
      env: this.config.env,
      stopGraceMs: this.config.stopGraceSeconds * 1000,
    });
    this.deps = {
      store: this.store,
      launcher: this.launcher,
      queue: launchQueue,
      events: { publish: async (e) => this.enqueueEvent(e) },
      clock: systemClock,
      environment: 'local',
      storePayload: async (runId, json) => {
        mkdirSync(paths.payloads, { recursive: true });
        const file = join(paths.payloads, `${runId}.json`);
        writeFileSync(file, json);
        return file;
      },
    };

    await this.loadSubscribers();
    const mode = this.options.terminal ?? 'plain';
    if (!this.options.log) this.view = new TerminalView(mode);

    await this.listen(this.options.port ?? this.config.port ?? DEFAULT_PORT);
    writeFileSync(paths.engineFile, `${JSON.stringify(this.info, null, 2)}\n`);

    await this.reconcile();
    this.queues.releaseInFlight(LAUNCH_QUEUE);
    // From here on, a launch due now is launched straight after the step that queued it commits.
    launchQueue.claim = { visibilityMs: LAUNCH_VISIBILITY_MS, onClaimed: (m) => this.claimed.push(m) };
    this.workers = new WorkerPools({
      jobs: this.jobList,
      queues: this.queues,
      engineQueueName: jobQueueName,
      sqsQueueName: queueNameOf,
      baseUrl: this.info.url,
      root: paths.root,
      logDir: join(paths.logs, 'workers'),
      env: this.config.env,
      log: (line) => this.log(line),
    });
    this.workers.start();
    this.flushOutbox();
    const buckets = watchedBuckets(this.jobList);
    if (buckets.length > 0) {
      this.watcher = await watchBuckets({
        bucketsDir: paths.buckets,
        buckets,
        onObject: (e) => void this.onObject(e),
        onError: (e) => this.log(`✖ bucket watcher: ${e.message}`),
      });
    }
    this.scheduler = new Scheduler(
      this.db,
      this.jobList,
      (f) => this.onSchedule(f),
      undefined,
      (e) => this.log(`✖ schedule: ${e.message}`),
    );
    await this.tx.run(() => this.scheduler?.start());
    this.dataVersion = this.readDataVersion();
    this.pollTimer = setInterval(() => {
      const v = this.readDataVersion();
      if (v !== this.dataVersion) {
        this.dataVersion = v;
        this.wake();
      }
    }, POLL_MS);
    this.wake();
  }

  private readDataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  private async listen(port: number): Promise<void> {
    let dashboard: ReturnType<CreateDashboard> | undefined;
    try {
      const file = join(
        import.meta.dirname,
        `../../dashboard/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
      );
      if (existsSync(file)) {
        const mod = (await import(pathToFileURL(file).href)) as { createDashboard?: CreateDashboard };
        if (typeof mod.createDashboard === 'function')
          dashboard = mod.createDashboard(this, { token: this.token });
      }
    } catch (error) {
      this.log(`! dashboard not loaded: ${(error as Error).message}`);
    }
    this.hasDashboard = dashboard !== undefined;
    const server = createServer((req, res) => {
      void this.handle(req, res, dashboard).catch((error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String((error as Error).message));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'EADDRINUSE'
            ? new EngineError(
                `--port ${port}: port ${port} on 127.0.0.1 is in use — stop what uses it or pass --port <another>`,
              )
            : error,
        );
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const actual = (server.address() as AddressInfo).port;
    this.info = {
      pid: process.pid,
      port: actual,
      url: `http://127.0.0.1:${actual}`,
      startedAt: new Date().toISOString(),
    };
  }

  hasDashboard = false;
  /** Worker processes of service-mode queue jobs (src/runtime/local/workers.ts). */
  workers: WorkerPools | undefined;

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
    dashboard: ReturnType<CreateDashboard> | undefined,
  ): Promise<void> {
    if (this.workers?.handles(req)) return this.workers.serve(req, res);
    if (isSqsRequest(req)) {
      return serveSqs(
        {
          hasQueue: (name) => this.queueToJob.has(name),
          send: (name, body, o) => {
            const job = this.queueToJob.get(name) as Job;
            const sent = this.queues.send(jobQueueName(job.name), body, {
              delayMs: o.delaySeconds * 1000,
              ...(o.attributes ? { attributes: o.attributes } : {}),
              ...(o.groupId ? { groupId: o.groupId } : {}),
              ...(o.deduplicationId && job.triggers.some((t) => t.kind === 'queue' && t.fifo)
                ? { deduplicationId: o.deduplicationId }
                : {}),
            });
            this.wake();
            return sent;
          },
          stats: (name) => this.queues.stats(jobQueueName((this.queueToJob.get(name) as Job).name)),
        },
        this.info.url,
        req,
        res,
      );
    }
    if (dashboard && (await dashboard(req, res))) return;
    const url = new URL(req.url ?? '/', this.info.url);
    if (req.method === 'GET' && url.pathname === '/events') return this.openSse(req, res);
    if (req.method === 'GET' && url.pathname === '/api/health') {
      return json(res, 200, { ok: true, pid: process.pid, jobs: this.jobList.map((j) => j.name) });
    }
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`berth dev on ${this.info.url}\nevents: ${this.info.url}/events (server-sent events)\n`);
      return;
    }
    json(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  }

  private openSse(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(': berth dev outcome events\n\n');
    this.sse.add(res);
    req.on('close', () => this.sse.delete(res));
  }

  // ---- Events -------------------------------------------------------------------------------------

  /** The lifecycle's publisher: events go to the outbox inside the step's transaction. */
  private enqueueEvent(event: OutcomeEvent): void {
    this.db.prepare('INSERT INTO outbox (event) VALUES (?)').run(JSON.stringify(outcomeOf(event)));
  }

  private afterCommit(committed: boolean): void {
    if (committed) this.ready.push(...this.claimed);
    // Rolled back, or committed by a partial commit before the error: either way show it again.
    else for (const m of this.claimed) this.queues.changeVisibility(m.receiptHandle, 0);
    this.claimed = [];
    if (this.db.inTransaction) return;
    for (const id of this.changedRuns) {
      const run = this.store.getRunSync(id);
      if (run) this.emit({ type: 'run', run });
    }
    this.changedRuns.clear();
    this.flushOutbox();
  }

  /**
   * Delivers each outbox row once per engine and deletes it only after every consumer was tried (webhooks
   * with their bounded retries), so a kill -9 mid-delivery repeats the event on the next start, never loses
   * it. Runs in the background: a slow webhook never holds up the engine.
   */
  private flushOutbox(): void {
    const rows = this.db.prepare('SELECT seq, event FROM outbox ORDER BY seq').all() as {
      seq: number;
      event: string;
    }[];
    for (const row of rows) {
      if (this.delivering.has(row.seq)) continue;
      const event = JSON.parse(row.event) as OutcomeEvent;
      const done = this.deliver(event)
        .catch((e) => this.log(`✖ event ${event.id}: ${(e as Error).message}`))
        .finally(() => {
          this.delivering.delete(row.seq);
          if (this.db.open) this.db.prepare('DELETE FROM outbox WHERE seq = ?').run(row.seq);
        });
      this.delivering.set(row.seq, done);
    }
  }

  /** Outbox rows whose delivery is under way in this process. */
  private readonly delivering = new Map<number, Promise<void>>();

  private async deliver(event: OutcomeEvent): Promise<void> {
    this.emit({ type: 'outcome', event });
    const data = `event: outcome\nid: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`;
    for (const res of this.sse) res.write(data);
    const tries: Promise<void>[] = [];
    for (const hook of this.webhooks) {
      if (hook.events && !hook.events.includes(event['detail-type'])) continue;
      tries.push(
        postWebhook(hook.url, event).catch((e) => this.log(`✖ webhook ${hook.url}: ${(e as Error).message}`)),
      );
    }
    for (const s of this.subscribers) {
      tries.push(
        s
          .run(event)
          .catch((error) => this.log(`✖ subscriber ${s.name} (${s.file}): ${(error as Error).message}`)),
      );
    }
    await Promise.all(tries);
  }

  /** `defineSubscriber` handlers in `subscribers/` run here too, on the same events as on AWS. */
  private async loadSubscribers(): Promise<void> {
    try {
      const mod = (await import('../../subscriber/index.js')) as {
        runSubscriber?: (sub: unknown, event: OutcomeEvent) => Promise<boolean>;
      };
      const { loadSubscribers } = await import('../../loader/loadSubscribers.js');
      if (!mod.runSubscriber) return;
      const loaded = await loadSubscribers(this.paths.root);
      const run = mod.runSubscriber;
      this.subscriberNames = loaded.map((l) => l.name);
      for (const l of loaded)
        this.subscribers.push({
          name: l.name,
          file: l.file,
          run: async (e) => void (await run(l.subscriber, e)),
        });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return;
      throw error;
    }
  }

  subscriberNames: string[] = [];
  private readonly subscribers: { name: string; file: string; run: (e: OutcomeEvent) => Promise<void> }[] =
    [];

  private emit(e: LocalEngineEvent): void {
    if (e.type === 'outcome') this.view?.onEvent(e.event);
    else this.view?.onRun(e.run);
    if (this.options.log && e.type === 'outcome') this.options.log(JSON.stringify(e.event));
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A listener's bug must not stop the engine.
      }
    }
  }

  // ---- Triggers -----------------------------------------------------------------------------------

  private async onObject(event: S3ObjectCreatedEvent): Promise<void> {
    for (const job of this.jobList) {
      const match = job.triggers.some((t) => t.kind === 's3' && matchesS3Trigger(t, event));
      if (!match) continue;
      await this.tx.run(() => acceptTrigger(this.deps, job, s3TriggerPayload(event)));
    }
  }

  private async onSchedule(f: ScheduleFire): Promise<void> {
    const trigger: TriggerPayload = {
      kind: 'schedule',
      scheduleId: f.schedule.id,
      scheduledTime: f.scheduledTime.toISOString(),
      ...(f.schedule.payload !== undefined ? { payload: f.schedule.payload } : {}),
    };
    const run = async () => {
      const result = await acceptTrigger(this.deps, f.job, trigger);
      f.markFired();
      if (result.status === 'skipped')
        this.log(`${f.job.name}: schedule fire at ${trigger.scheduledTime} skipped — ${result.reason}`);
      if (f.catchUp) this.log(`${f.job.name}: caught up one missed fire (${trigger.scheduledTime})`);
    };
    // At start the scheduler already runs inside a transaction.
    if (this.db.inTransaction) await run();
    else await this.tx.run(run);
  }

  // ---- Pumps --------------------------------------------------------------------------------------

  /** Schedules a drain of the launch queue and the job queues. */
  private wake(): void {
    if (this.stopping) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    // setImmediate, not setTimeout(0): Node rounds a 0 ms timer up to 1 ms, on every trigger.
    setImmediate(() => {
      this.wakeScheduled = false;
      void this.drain();
    });
  }

  private wakeScheduled = false;
  /** Launches queued (already received) by the step in progress. */
  private claimed: QueueMessage[] = [];
  /** Launches queued (already received) by committed steps, not launched yet. */
  private ready: QueueMessage[] = [];

  /** Launches what committed steps queued for now, in order. True when there was any. */
  private async launchReady(): Promise<boolean> {
    let any = false;
    for (let m = this.ready.shift(); m && !this.stopping; m = this.ready.shift()) {
      any = true;
      await this.processLaunch(m);
    }
    return any;
  }

  private async drain(): Promise<void> {
    if (this.draining || this.stopping) return;
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        let worked = true;
        while (worked && !this.stopping) {
          worked = false;
          for (const job of this.jobList) {
            const q = job.triggers.find((t) => t.kind === 'queue');
            if (!q || q.mode === 'service') continue; // service-mode queues are read by their workers
            const messages = this.queues.receive(jobQueueName(job.name), {
              max: q.batchSize,
              visibilityMs: parseDuration(q.visibilityTimeout),
              maxReceiveCount: q.maxReceiveCount,
              fifo: q.fifo,
            });
            if (messages.length > 0) {
              worked = true;
              crashPoint('after-receive');
            }
            for (const m of messages) {
              await this.acceptMessage(job, m);
              await this.launchReady();
            }
          }
          if (await this.launchReady()) worked = true;
          const launches = this.queues.receive(LAUNCH_QUEUE, { max: 10, visibilityMs: LAUNCH_VISIBILITY_MS });
          if (launches.length > 0) worked = true;
          for (const m of launches) await this.processLaunch(m);
        }
      } while (this.drainAgain && !this.stopping);
    } catch (error) {
      this.log(`✖ engine: ${(error as Error).stack ?? error}`);
    } finally {
      this.draining = false;
      this.armWake();
    }
  }

  private armWake(): void {
    if (this.stopping) return;
    const times = [this.queues.nextVisibleAt(LAUNCH_QUEUE)];
    for (const job of this.jobList)
      if (job.triggers.some((t) => t.kind === 'queue' && t.mode !== 'service'))
        times.push(this.queues.nextVisibleAt(jobQueueName(job.name)));
    const next = Math.min(...times.filter((t): t is number => t !== undefined));
    if (!Number.isFinite(next)) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(
      () => void this.drain(),
      Math.min(2_147_483_647, Math.max(0, next - Date.now())),
    );
  }

  private async acceptMessage(job: Job, m: QueueMessage): Promise<void> {
    let parsed: Json | undefined;
    try {
      parsed = JSON.parse(m.body) as Json;
    } catch {
      parsed = undefined;
    }
    const trigger: TriggerPayload = {
      kind: 'queue',
      queue: queueNameOf(job) ?? job.name,
      messageId: m.messageId,
      body: m.body,
      ...(parsed !== undefined ? { json: parsed } : {}),
      receiveCount: m.receiveCount,
      ...(m.groupId ? { messageGroupId: m.groupId } : {}),
    };
    try {
      await this.tx.run(async () => {
        await acceptTrigger(this.deps, job, trigger);
        this.queues.delete(m.receiptHandle);
      });
      crashPoint('after-accept');
    } catch (error) {
      // Not accepted: the message comes back after its visibility timeout (and dead-letters after max receives).
      this.log(`✖ ${job.name}: message ${m.messageId} not accepted: ${(error as Error).message}`);
    }
  }

  private async processLaunch(m: QueueMessage): Promise<void> {
    const msg = JSON.parse(m.body) as LaunchMessage;
    const job = this.jobsByName.get(msg.job);
    await this.tx.run(async () => {
      if (!job) {
        // The job file is gone or broken: keep the launch (no trigger is ever dropped) and look again later.
        this.queues.changeVisibility(m.receiptHandle, LAUNCH_VISIBILITY_MS);
        return;
      }
      const outcome = await launchAttempt(this.deps, job, msg.runId, msg.attempt);
      if (outcome.status === 'later') this.deferForSlot(m, job, outcome.delayMs);
      else this.queues.delete(m.receiptHandle);
    });
    crashPoint('after-launch');
  }

  /** A launch waiting for a concurrency slot: hidden for the delay, woken early when a slot frees. */
  private deferForSlot(m: QueueMessage, job: Job, delayMs: number): void {
    this.db
      .prepare(`UPDATE messages SET visible_at = ?, receipt = NULL, attributes = ? WHERE receipt = ?`)
      .run(Date.now() + delayMs, JSON.stringify({ waitingForSlot: job.name }), m.receiptHandle);
  }

  private wakeSlotWaiters(job: string): void {
    this.db
      .prepare(`UPDATE messages SET visible_at = ? WHERE queue = ? AND attributes = ? AND visible_at > ?`)
      .run(Date.now(), LAUNCH_QUEUE, JSON.stringify({ waitingForSlot: job }), Date.now());
  }

  // ---- Stops --------------------------------------------------------------------------------------

  private async onExit(info: ExitInfo): Promise<void> {
    const run = this.store.getRunSync(info.runId);
    const job = run ? this.jobsByName.get(run.job) : undefined;
    if (!run || !job) return;
    const shutdown = info.stopReason === SHUTDOWN_REASON;
    const stop: StopReport = {
      runId: info.runId,
      attempt: info.attempt,
      taskArn: `local:${info.pid}`,
      startedAt: info.startedAt,
      stoppedAt: info.stoppedAt,
      containers: [{ name: job.name, exitCode: info.exitCode }],
      signal: info.signal,
      stoppedReason: info.stopReason,
      ...(shutdown ? { missing: true } : {}),
    };
    await this.tx.run(async () => {
      await recordStop(this.deps, job, stop);
      this.markRecorded(info.runId, info.attempt);
      this.wakeSlotWaiters(job.name);
    });
    crashPoint('after-stop');
    this.wake();
  }

  private markRecorded(runId: string, attempt: number): void {
    this.db
      .prepare(`UPDATE processes SET state = 'recorded' WHERE run_id = ? AND attempt = ?`)
      .run(runId, attempt);
  }

  /**
   * After a restart: every process row the previous engine did not finish is settled. A recorded exit is
   * replayed into `recordStop`; a child still alive is killed (nobody can observe its exit any more) and,
   * like one that vanished, recorded `lost` so the retry policy decides.
   */
  private async reconcile(): Promise<void> {
    type Row = {
      run_id: string;
      attempt: number;
      state: string;
      pid: number | null;
      start_marker: string | null;
      engine_pid: number;
      started_at: string | null;
      exit_code: number | null;
      signal: string | null;
      stop_reason: string | null;
      exited_at: string | null;
    };
    const rows = this.db
      .prepare(`SELECT * FROM processes WHERE state IN ('spawning', 'running', 'exited')`)
      .all() as Row[];
    for (const row of rows) {
      const run = this.store.getRunSync(row.run_id);
      const job = run ? this.jobsByName.get(run.job) : undefined;
      if (!run || !job || isFinalStatus(run.status)) {
        this.markRecorded(row.run_id, row.attempt);
        continue;
      }
      let stop: StopReport;
      const now = new Date().toISOString();
      if (row.state === 'exited') {
        stop = {
          runId: row.run_id,
          attempt: row.attempt,
          taskArn: `local:${row.pid}`,
          startedAt: row.started_at,
          stoppedAt: row.exited_at ?? now,
          containers: [{ name: job.name, exitCode: row.exit_code }],
          signal: row.signal,
          stoppedReason: row.stop_reason,
        };
      } else {
        let fate = 'was never started';
        if (row.pid !== null) {
          if (isSameProcessAlive(row.pid, row.start_marker)) {
            killGroup(row.pid, 'SIGKILL');
            fate = `(pid ${row.pid}) was still running and was stopped`;
          } else fate = `(pid ${row.pid}) had ended unobserved`;
        } else {
          const strays = findProcessesOfAttempt(row.run_id, row.attempt);
          for (const pid of strays) killGroup(pid, 'SIGKILL');
          if (strays.length > 0) fate = `(pid ${strays.join(', ')}) was still running and was stopped`;
        }
        stop = {
          runId: row.run_id,
          attempt: row.attempt,
          taskArn: row.pid !== null ? `local:${row.pid}` : null,
          startedAt: row.started_at,
          stoppedAt: now,
          containers: [],
          missing: true,
          stoppedReason: `the berth dev engine (pid ${row.engine_pid}) died; the attempt's process ${fate}`,
        };
      }
      await this.tx.run(async () => {
        await recordStop(this.deps, job, stop);
        this.markRecorded(row.run_id, row.attempt);
      });
    }
  }

  // ---- LocalEngineApi -----------------------------------------------------------------------------

  jobs(): Job[] {
    return [...this.jobList];
  }

  nextFireTimes(job: string, count: number): string[] {
    const j = this.jobsByName.get(job);
    if (!j || !this.scheduler) return [];
    return this.scheduler.nextFireTimes(j, count);
  }

  async queueStats(job: string): Promise<QueueStats> {
    return this.queues.stats(jobQueueName(job));
  }

  workerPools() {
    return this.workers?.status() ?? [];
  }

  async listRuns(filter: LocalRunFilter): Promise<RunRecord[]> {
    return this.store.listRunsSync(filter);
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.store.getRunSync(runId);
  }

  async listAttempts(runId: string) {
    return this.store.listAttemptsSync(runId);
  }

  logPath(runId: string, attempt: number): string {
    return logFile(this.paths, runId, attempt);
  }

  private requireJob(name: string): Job {
    const job = this.jobsByName.get(name);
    if (!job)
      throw new EngineError(
        `${name}: no such job — known jobs: ${this.jobList.map((j) => j.name).join(', ')}`,
      );
    return job;
  }

  async invoke(job: string, payload?: unknown): Promise<AcceptResult> {
    const j = this.requireJob(job);
    return this.tx.run(() =>
      acceptTrigger(this.deps, j, {
        kind: 'manual',
        requestId: randomUUID(),
        ...(payload !== undefined ? { payload: payload as Json } : {}),
      }),
    );
  }

  async replay(runId: string): Promise<AcceptResult> {
    const run = this.store.getRunSync(runId);
    if (!run) throw new EngineError(`${runId}: no such run`);
    const job = this.requireJob(run.job);
    // The new run's replayOf is the link back; "replay all failed" and redrive look it up.
    return this.tx.run(() => replayRun(this.deps, job, run, randomUUID()));
  }

  async replayFailed(job: string): Promise<AcceptResult[]> {
    this.requireJob(job);
    const out: AcceptResult[] = [];
    for (const run of this.store.unreplayedFailures(job)) out.push(await this.replay(run.runId));
    return out;
  }

  async redrive(runId: string): Promise<AcceptResult> {
    const run = this.store.getRunSync(runId);
    if (!run) throw new EngineError(`${runId}: no such run`);
    if (!run.deadLettered)
      throw new EngineError(
        `${runId}: is ${run.status}, not dead-lettered — only a run that failed for good can be redriven`,
      );
    const by = this.store.replayedBy(runId);
    if (by) return { status: 'duplicate', runId: by };
    return this.replay(runId);
  }

  async cancel(runId: string): Promise<boolean> {
    const run = this.store.getRunSync(runId);
    if (!run || isFinalStatus(run.status)) return false;
    const job = this.jobsByName.get(run.job);
    if (run.status === 'running' || run.status === 'launching') {
      if (this.launcher.stop(runId, run.attempt, `${BERTH_STOP_REASONS.cancel} from the dashboard`))
        return true;
    }
    return this.tx.run(async () => {
      const now = new Date().toISOString();
      const moved = await this.store.transition(runId, ['queued', 'retrying', 'launching'], {
        status: 'cancelled',
        endedAt: now,
        updatedAt: now,
        outcome: 'cancelled',
        reason: BERTH_STOP_REASONS.cancel,
        decision: 'cancelled before it ran',
      });
      if (moved && job) {
        await this.store.releaseSlot(job.name, runId);
        const after = this.store.getRunSync(runId) as RunRecord;
        await publish(this.deps, job, after, EVENT_TYPES.cancelled);
      }
      return moved;
    });
  }

  subscribe(listener: (e: LocalEngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- Banner and shutdown ------------------------------------------------------------------------

  banner(): string[] {
    return describeEngine(this);
  }

  get driver(): Driver {
    return this.driverName;
  }

  get dockerAnswered(): boolean {
    return this.dockerUp;
  }

  /** Stops triggers, stops running children (their runs are recorded `lost`, retried next start), closes. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.scheduler?.stop();
    await this.workers?.stop(this.config.stopGraceSeconds * 1000);
    await this.watcher?.close();
    await this.launcher.stopAll(SHUTDOWN_REASON);
    await this.tx.idle();
    // Give deliveries under way a moment; rows still pending are delivered again on the next start.
    await Promise.race([
      Promise.all(this.delivering.values()),
      new Promise((r) => setTimeout(r, STOP_DELIVERY_WAIT_MS).unref()),
    ]);
    for (const res of this.sse) res.end();
    this.sse.clear();
    await new Promise<void>((r) => {
      if (!this.server) return r();
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
    this.view?.close();
    this.db.close();
    try {
      const info = JSON.parse(readFileSync(this.paths.engineFile, 'utf8')) as EngineInfo;
      if (info.pid === process.pid) rmSync(this.paths.engineFile, { force: true });
    } catch {
      // Already gone.
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function postWebhook(url: string, event: OutcomeEvent): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'berth-dev' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(5000),
      });
      if (res.ok) return;
      if (attempt >= 3 || res.status < 500) throw new Error(`HTTP ${res.status}`);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
    await new Promise((r) => setTimeout(r, 500 * attempt));
  }
}
