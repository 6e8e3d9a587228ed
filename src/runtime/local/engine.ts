/**
 * The local engine behind `berth dev`: the shared run lifecycle (`../lifecycle.ts`) on SQLite, child
 * processes and folders. This file wires the parts and implements the `LocalEngineApi`:
 * - `http.ts`: the HTTP server (SQS-compatible endpoint, worker endpoint, dashboard, `/events`);
 * - `outbox.ts`: outcome-event delivery;
 * - `pump.ts`: the job queues and the durable launch queue;
 * - `triggers.ts`: bucket folders and schedules;
 * - `launcher.ts` runs attempts, `stops.ts` records their ends (and reconciles after `kill -9`).
 * Triggers are accepted in one transaction each; launches are driven from the durable launch queue; exits
 * become `recordStop` calls.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH_STOP_REASONS } from '../../core/lifecycle/classify.js';
import { EVENT_TYPES } from '../../core/lifecycle/events.js';
import { isFinalStatus } from '../../core/lifecycle/states.js';
import type { Json } from '../../core/model/common.js';
import type { Job } from '../../core/model/job.js';
import { loadJobs, loadJobsOrThrow } from '../../loader/loadJobs.js';
import { type AcceptResult, acceptTrigger, cancelledBeforeRun, publish, replayRun } from '../lifecycle.js';
import { type LogRead, type ReadLogOptions, readLogFile } from '../logs.js';
import { type LifecycleDeps, type RunRecord, systemClock } from '../ports.js';
import type { InvokeOptions, LocalEngineApi, LocalEngineEvent, LocalRunFilter, QueueStats } from './api.js';
import { describeEngine } from './banner.js';
import { type DevConfig, loadDevConfig, webhooksOf } from './config.js';
import type { EngineContext } from './context.js';
import {
  credentialsFile,
  type DevCredentials,
  generateCredentials,
  writeCredentialsFile,
} from './credentials.js';
import { type Db, openDevDb } from './db.js';
import { queueNameOf } from './direct.js';
import { buildDevImages, devDriverFor, dockerAvailable, jobsNeedingDocker } from './docker.js';
import { EngineError, EngineHttp, type EngineInfo } from './http.js';
import { type Driver, ProcessLauncher } from './launcher.js';
import { EngineLock } from './lock.js';
import { manualS3Trigger } from './manualS3.js';
import { watchNudges } from './nudge.js';
import { Outbox } from './outbox.js';
import { type DevPaths, devPaths, logFile } from './paths.js';
import { dropPayloadIfFinal, payloadFile, sweepPayloads } from './payloads.js';
import { LAUNCH_VISIBILITY_MS, Pump } from './pump.js';
import { jobQueueName, LAUNCH_QUEUE, SqliteLaunchQueue, SqliteQueues } from './queue.js';
import { type JobChanges, type LoadProblem, Reloader } from './reload.js';
import type { SqsBackend } from './sqs.js';
import { SHUTDOWN_REASON, StopRecorder } from './stops.js';
import { SqliteRunStore } from './store.js';
import { type TerminalMode, TerminalView } from './terminal.js';
import { Triggers } from './triggers.js';
import { TxRunner } from './tx.js';
import { WorkerPools } from './workers.js';

export { EngineError, type EngineInfo } from './http.js';

export const DEFAULT_PORT = 4555;
/** How often the engine looks for writes by other processes (`berth send`, `berth invoke`). */
const POLL_MS = 50;
/** How long `stop` waits for outcome events still being delivered (webhooks) before closing the database. */
const STOP_DELIVERY_WAIT_MS = 2000;
/** How often the engine checks that its `.berth` folder is still the one it locked. */
const FOLDER_CHECK_MS = 500;

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

export class LocalEngine implements LocalEngineApi {
  readonly paths: DevPaths;
  private db!: Db;
  private store!: SqliteRunStore;
  private queues!: SqliteQueues;
  private launcher!: ProcessLauncher;
  private deps!: LifecycleDeps;
  private tx!: TxRunner;
  private ctx!: EngineContext;
  private http: EngineHttp | undefined;
  private outbox!: Outbox;
  private pump!: Pump;
  private triggers!: Triggers;
  private stops!: StopRecorder;
  private config!: DevConfig;
  private jobList: Job[] = [];
  private readonly jobsByName = new Map<string, Job>();
  private readonly queueToJob = new Map<string, Job>();
  /** Jobs removed by a reload: attempts still running are recorded with the version they started with. */
  private readonly retiredJobs = new Map<string, Job>();
  private reloader: Reloader<void> | undefined;
  private stopNudges: (() => void) | undefined;
  private readonly listeners = new Set<(e: LocalEngineEvent) => void>();
  private readonly changedRuns = new Set<string>();
  private view: TerminalView | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private dataVersion = 0;
  private driverName: Driver = 'process';
  private dockerUp = false;
  readonly token = randomUUID().replace(/-/g, '');
  /** Jobs that cannot start here, found at start (the banner lists them; their runs fail at once). */
  configWarnings: string[] = [];
  /** This start's credential for the SQS and worker endpoints (written to `.berth/credentials`). */
  readonly credentials: DevCredentials = generateCredentials();
  info!: EngineInfo;
  /** Worker processes of service-mode queue jobs (src/runtime/local/workers.ts). */
  workers: WorkerPools | undefined;

  private constructor(private readonly options: EngineOptions) {
    this.paths = devPaths(options.root);
  }

  static async start(options: EngineOptions): Promise<LocalEngine> {
    const engine = new LocalEngine(options);
    try {
      await engine.boot();
    } catch (error) {
      engine.lock?.release();
      throw error;
    }
    return engine;
  }

  /** Held from the first thing `boot` does until `stop` ends (lock.ts). */
  private lock: EngineLock | undefined;
  private lockTimer: NodeJS.Timeout | undefined;
  private resolveClosed!: (reason: string | undefined) => void;
  /**
   * Resolves when the engine has stopped: with the reason when it stopped by itself (its `.berth` folder was
   * deleted), undefined after `stop()`.
   */
  readonly closed = new Promise<string | undefined>((r) => {
    this.resolveClosed = r;
  });

  private log(line: string): void {
    if (this.options.log) this.options.log(line);
    else this.view?.print(line);
  }

  get hasDashboard(): boolean {
    return this.http?.hasDashboard ?? false;
  }

  get subscriberNames(): string[] {
    return this.outbox?.subscriberNames ?? [];
  }

  private async boot(): Promise<void> {
    const paths = this.paths;
    // First thing: one engine per folder, before jobs load or the port is bound.
    mkdirSync(paths.dir, { recursive: true });
    this.lock = await EngineLock.acquire(paths);
    this.config = loadDevConfig(paths.config);
    this.jobList = [
      ...(await loadJobsOrThrow({ root: paths.root, jobsDir: this.options.jobsDir ?? 'jobs' })),
    ].sort((a, b) => a.name.localeCompare(b.name));
    for (const job of this.jobList) {
      this.jobsByName.set(job.name, job);
      const q = queueNameOf(job);
      if (q) this.queueToJob.set(q, job);
    }
    this.db = openDevDb(paths.db);
    this.lock.watch(paths.db);
    this.store = new SqliteRunStore(this.db);
    this.queues = new SqliteQueues(this.db);
    this.tx = new TxRunner(this.db);
    this.tx.afterCommit = (committed) => this.afterStep(committed);
    this.store.onRunChanged = (id) => this.changedRuns.add(id);
    const launchQueue = new SqliteLaunchQueue(this.queues);
    launchQueue.onEnqueue = () => this.pump.wake();
    this.outbox = new Outbox({
      db: this.db,
      webhooks: webhooksOf(this.config),
      emit: (event) => this.emit({ type: 'outcome', event }),
      log: (line) => this.log(line),
    });

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
        void this.stops
          .onExit(info)
          .catch((e) => this.log(`✖ recording the exit of ${info.runId}: ${(e as Error).message}`)),
      env: this.config.env,
      stopGraceMs: this.config.stopGraceSeconds * 1000,
    });
    this.configWarnings = this.jobList.flatMap((job) => {
      const problem = this.launcher.checkJob(job);
      return problem ? [`${job.name}: ${problem}`] : [];
    });
    this.deps = {
      store: this.store,
      launcher: this.launcher,
      queue: launchQueue,
      events: { publish: async (e) => this.outbox.enqueue(e) },
      clock: systemClock,
      environment: 'local',
      storePayload: async (runId, json) => {
        mkdirSync(paths.payloads, { recursive: true });
        const file = payloadFile(paths, runId);
        writeFileSync(file, json);
        return file;
      },
    };
    this.ctx = {
      paths,
      db: this.db,
      store: this.store,
      queues: this.queues,
      tx: this.tx,
      deps: this.deps,
      jobs: () => this.jobList,
      job: (name) => this.jobsByName.get(name),
      stopping: () => this.stopping,
      log: (line) => this.log(line),
    };
    this.pump = new Pump(this.ctx);
    this.triggers = new Triggers(this.ctx);
    this.stops = new StopRecorder(
      { ...this.ctx, job: (name) => this.jobsByName.get(name) ?? this.retiredJobs.get(name) },
      { wake: () => this.pump.wake(), launcher: () => this.launcher },
    );
    // Each released slot (a stop, a cancel, a throttled launch) wakes one launch waiting for it.
    this.store.onSlotReleased = (job) => this.pump.slotReleased(job);

    await this.outbox.loadSubscribers(paths.root);
    const mode = this.options.terminal ?? 'plain';
    if (!this.options.log) this.view = new TerminalView(mode);

    writeCredentialsFile(credentialsFile(paths), this.credentials);
    this.http = await EngineHttp.start({
      port: this.options.port ?? this.config.port ?? DEFAULT_PORT,
      api: this,
      token: this.token,
      credentials: this.credentials,
      sqs: this.sqsBackend(),
      workers: () => this.workers,
      jobNames: () => this.jobList.map((j) => j.name),
      log: (line) => this.log(line),
    });
    this.info = this.http.info;
    this.outbox.broadcast = (data) => this.http?.broadcast(data);
    writeFileSync(paths.engineFile, `${JSON.stringify(this.info, null, 2)}\n`);

    await this.stops.reconcile();
    sweepPayloads(paths, (id) => this.store.getRunSync(id));
    this.queues.releaseInFlight(LAUNCH_QUEUE);
    // From here on, a launch due now is launched straight after the step that queued it commits.
    launchQueue.claim = { visibilityMs: LAUNCH_VISIBILITY_MS, onClaimed: (m) => this.pump.onClaimed(m) };
    this.startWorkers();
    this.outbox.flush();
    await this.triggers.start();
    this.dataVersion = this.readDataVersion();
    this.pollTimer = setInterval(() => this.lookForWrites(), POLL_MS);
    this.lockTimer = setInterval(() => this.checkFolder(), FOLDER_CHECK_MS);
    // `berth send` / `invoke` / `redrive` nudge after they commit: read their rows now, not at the next poll.
    this.stopNudges = watchNudges(paths.dir, () => this.lookForWrites());
    await this.startReloader();
    this.pump.wake();
  }

  /** `.berth` deleted or replaced under a running engine: stop, rather than split state with a new one. */
  private checkFolder(): void {
    const problem = this.lock?.intact();
    if (!problem || this.stopping) return;
    const reason = `${problem} while berth dev ran — stopping (sends and runs would go to a database no engine reads); start berth dev again for a fresh ${this.paths.dir}`;
    this.log(`✖ ${reason}`);
    void this.stop(reason);
  }

  /** Another process committed to the database (`berth send`, `invoke`): drain now. */
  private lookForWrites(): void {
    if (this.stopping) return;
    const v = this.readDataVersion();
    if (v !== this.dataVersion) {
      this.dataVersion = v;
      this.pump.wake();
    }
  }

  private startWorkers(): void {
    this.workers = new WorkerPools({
      jobs: this.jobList,
      queues: this.queues,
      engineQueueName: jobQueueName,
      sqsQueueName: queueNameOf,
      baseUrl: this.info.url,
      root: this.paths.root,
      logDir: join(this.paths.logs, 'workers'),
      env: this.config.env,
      credentials: this.credentials,
      log: (line) => this.log(line),
    });
    this.workers.start();
  }

  /** Reload on change (`reload.ts`): job and subscriber files are watched while the engine runs. */
  private async startReloader(): Promise<void> {
    const root = this.paths.root;
    const jobsDir = this.options.jobsDir ?? 'jobs';
    this.reloader = new Reloader<void>({
      root,
      jobsDir,
      subscribersDir: 'subscribers',
      // Bundled: each load imports fresh modules, so an edited file is read again.
      loadJobs: () => loadJobs({ root, jobsDir, strategy: 'bundle' }),
      // Replaces the subscribers only when every file loads; throws (keeping the old set) otherwise.
      // A fresh version each time, so an edited file is imported again rather than taken from the cache.
      loadSubscribers: () => this.outbox.loadSubscribers(root, String(Date.now())),
      applySubscribers: () => {},
      current: () => this.jobList,
      applyJobs: (jobs, changes) => this.applyJobs(jobs, changes),
      log: (line) => this.log(line),
    });
    await this.reloader.start();
  }

  /** A reloaded job set takes over for new runs; attempts already running finish as they started. */
  private async applyJobs(jobs: Job[], changes: JobChanges): Promise<void> {
    for (const name of changes.removed) {
      const old = this.jobsByName.get(name);
      if (old) this.retiredJobs.set(name, old);
    }
    for (const job of jobs) this.retiredJobs.delete(job.name);
    const isService = (j: Job | undefined) =>
      j?.triggers.some((t) => t.kind === 'queue' && t.mode === 'service') ?? false;
    const touched = [...changes.added, ...changes.removed, ...changes.changed];
    const serviceTouched = touched.some(
      (n) => isService(this.jobsByName.get(n)) || isService(jobs.find((j) => j.name === n)),
    );
    this.jobList = jobs;
    this.jobsByName.clear();
    this.queueToJob.clear();
    for (const job of jobs) {
      this.jobsByName.set(job.name, job);
      const q = queueNameOf(job);
      if (q) this.queueToJob.set(q, job);
    }
    // A saved job that cannot start here is said at once, as at start (its runs would fail at once).
    this.configWarnings = this.jobList.flatMap((job) => {
      const problem = this.launcher.checkJob(job);
      if (problem && [...changes.added, ...changes.changed].includes(job.name))
        this.log(`! cannot start ${job.name}: ${problem}`);
      return problem ? [`${job.name}: ${problem}`] : [];
    });
    await this.triggers.reload();
    if (serviceTouched && !this.stopping) {
      // Service workers are long-lived: the pools start again with the new definitions.
      await this.workers?.stop(this.config.stopGraceSeconds * 1000);
      this.startWorkers();
    }
    this.pump.wake();
  }

  loadProblems(): LoadProblem[] {
    return this.reloader?.problems() ?? [];
  }

  private readDataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /** The SQS-compatible endpoint's view of the job queues. */
  private sqsBackend(): SqsBackend {
    return {
      hasQueue: (name) => this.queueToJob.has(name),
      isFifo: (name) =>
        this.queueToJob.get(name)?.triggers.some((t) => t.kind === 'queue' && t.fifo) ?? false,
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
        this.pump.wake();
        return sent;
      },
      stats: (name) => this.queues.stats(jobQueueName((this.queueToJob.get(name) as Job).name)),
    };
  }

  /** After each lifecycle step (committed or rolled back): launches, run-change events, outbox delivery. */
  private afterStep(committed: boolean): void {
    this.pump.afterStep(committed);
    if (this.db.inTransaction) return;
    for (const id of this.changedRuns) {
      const run = this.store.getRunSync(id);
      if (!run) continue;
      this.emit({ type: 'run', run });
      dropPayloadIfFinal(this.paths, run);
    }
    this.changedRuns.clear();
    this.outbox.flush();
  }

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

  // ---- LocalEngineApi -----------------------------------------------------------------------------

  jobs(): Job[] {
    return [...this.jobList];
  }

  nextFireTimes(job: string, count: number): string[] {
    return this.triggers?.nextFireTimes(job, count) ?? [];
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

  readLog(runId: string, attempt: number, options?: ReadLogOptions): Promise<LogRead> {
    return readLogFile(logFile(this.paths, runId, attempt), options);
  }

  private requireJob(name: string): Job {
    const job = this.jobsByName.get(name);
    if (!job)
      throw new EngineError(
        `${name}: no such job — known jobs: ${this.jobList.map((j) => j.name).join(', ')}`,
      );
    return job;
  }

  async invoke(job: string, payload?: unknown, options?: InvokeOptions): Promise<AcceptResult> {
    const j = this.requireJob(job);
    if (options?.s3) {
      const trigger = await manualS3Trigger(this.paths, j, options.s3);
      return this.tx.run(() => acceptTrigger(this.deps, j, trigger));
    }
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

  async redriveQueue(job: string): Promise<number> {
    this.requireJob(job);
    const moved = this.queues.redriveDeadLetters(jobQueueName(job));
    if (moved) this.pump.wake();
    return moved;
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
      const moved = await this.store.transition(
        runId,
        ['queued', 'retrying', 'launching'],
        cancelledBeforeRun(now),
      );
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
  async stop(reason?: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.lockTimer) clearInterval(this.lockTimer);
    this.stopNudges?.();
    await this.reloader?.stop();
    this.pump.stop();
    this.triggers.stopSchedules();
    await this.workers?.stop(this.config.stopGraceSeconds * 1000);
    await this.triggers.stopWatching();
    await this.launcher.stopAll(SHUTDOWN_REASON);
    await this.tx.idle();
    // Give deliveries under way a moment; rows still pending are delivered again on the next start.
    await this.outbox.settle(STOP_DELIVERY_WAIT_MS);
    await this.http?.close();
    this.view?.close();
    this.db.close();
    try {
      const info = JSON.parse(readFileSync(this.paths.engineFile, 'utf8')) as EngineInfo;
      if (info.pid === process.pid) rmSync(this.paths.engineFile, { force: true });
    } catch {
      // Already gone.
    }
    this.lock?.release();
    this.resolveClosed(reason);
  }
}
