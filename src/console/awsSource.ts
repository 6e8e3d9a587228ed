/**
 * The dashboard's source for a deployed stage (`berth console --stage`): runs and attempts from the runs
 * table (DynamoDB), logs from CloudWatch Logs, queue depths and dead letters from SQS, worker counts from ECS,
 * next fire times from the job files (core schedule maths). Actions go through the same paths as the CLI:
 * run-now, replay and redrive are messages on the launch queue, cancel is ECS StopTask (a run that has no task
 * yet moves to `cancelled` in the table), a job queue's dead letters move back with `moveDeadLetters`.
 *
 * Live updates: `subscribe` starts ONE poll of the runs table for every open page together, every `pollMs`:
 * one Query per run status on the `byStatus` index for runs whose `updatedAt` moved since the last poll
 * (8 Queries of at most a few items: 4 read request units per poll when nothing changed). It stops when the
 * last page closes. While it runs, the runs read for a job's row (its newest runs, the failed and timed-out
 * ones) are kept in memory and updated from the poll, so a run change re-renders the jobs page without
 * reading the table again. Every SDK call is counted in `calls`, the read units DynamoDB reports in
 * `readUnits`.
 */
import { randomUUID } from 'node:crypto';
import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  type GetLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeServicesCommand,
  ECSClient,
  ListServicesCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createNames, type Names } from '../compiler/naming.js';
import { BERTH_STOP_REASONS } from '../core/lifecycle/classify.js';
import {
  idempotencyKey,
  redriveIdempotencyKey,
  replayIdempotencyKey,
  runIdFor,
} from '../core/lifecycle/idempotency.js';
import { isFinalStatus, RUN_STATUSES } from '../core/lifecycle/states.js';
import type { Json } from '../core/model/common.js';
import type { Job } from '../core/model/job.js';
import { serviceOptionsOf } from '../core/scaling/backlog.js';
import { instantOfZonedIso, nextFireTimes as scheduleFireTimes } from '../core/schedule/index.js';
import type {
  ActionResult,
  DashboardSource,
  InvokeOptions,
  QueueStats,
  RunFilter,
  SourceEvent,
  WorkerPoolStatus,
} from '../dashboard/source.js';
import { DynamoRunStore, toRun } from '../runtime/aws/dynamoRunStore.js';
import { type InvokeMessage, invokeTrigger } from '../runtime/aws/messages.js';
import { createDocumentClient } from '../runtime/aws/sdkClients.js';
import {
  jobQueueRef,
  logLocation,
  moveDeadLetters,
  type StackResources,
  sendLaunchMessage,
} from '../runtime/aws/stage.js';
import { RUNS_TABLE } from '../runtime/aws/tableSchema.js';
import { DEFAULT_LOG_TAIL, type LogRead, lineStream, type ReadLogOptions } from '../runtime/logs.js';
import type { AttemptRecord, RunRecord } from '../runtime/ports.js';

/** How often the shared poll reads the runs table while a page is open. */
export const CONSOLE_POLL_MS = 5000;
/** Queue counts are read at most this often per job (the jobs page asks on every run change). */
export const QUEUE_STATS_TTL_MS = 10_000;
/** How far back each poll looks before the newest change it saw (GSIs are eventually consistent). */
const POLL_OVERLAP_MS = 15_000;
/** Runs read for a search or a `replayOf` filter (neither has an index: the newest runs are filtered). */
const SCAN_RUNS = 500;
/** Most runs kept in memory; past it the memory starts again (each job's runs are read again once). */
const MAX_CACHED_RUNS = 20_000;
/** How long a read is shared by the calls of one page render. */
const MEMO_MS = 3000;
/** Runs of one status (all jobs) read once for the failed/timed-out counts while the poll runs. */
const STATUS_SCAN = 1000;
/** Points kept per worker chart. */
const MAX_WORKER_HISTORY = 500;

export interface AwsSourceOptions {
  stage: string;
  service: string;
  region?: string;
  /** An endpoint for every client (moto in tests). */
  endpoint?: string;
  resources: StackResources;
  /** The project's jobs (the console runs in the project folder, like the --stage commands). */
  jobs: Job[];
  /** @default CONSOLE_POLL_MS */
  pollMs?: number;
  now?: () => Date;
  /**
   * Told when a poll fails (throttling, a network blip, a missing grant), once per new message; the next
   * tick tries again. @default a line on standard error
   */
  onPollError?: (message: string) => void;
}

interface SdkClients {
  ddb: DynamoDBDocumentClient;
  sqs: SQSClient;
  ecs: ECSClient;
  logs: CloudWatchLogsClient;
}

/** Counts every call by `<service>.<command>`; DynamoDB reads also ask for and sum their consumed capacity. */
function instrument(
  clients: SdkClients,
  calls: Map<string, number>,
  onCapacity: (units: number) => void,
): void {
  for (const [service, client] of Object.entries(clients)) {
    (client as { middlewareStack: DynamoDBDocumentClient['middlewareStack'] }).middlewareStack.add(
      (next, context) => async (args) => {
        const name = `${service}.${context.commandName ?? 'unknown'}`;
        calls.set(name, (calls.get(name) ?? 0) + 1);
        const input = args.input as Record<string, unknown>;
        if (service === 'ddb' && input && input.ReturnConsumedCapacity === undefined) {
          input.ReturnConsumedCapacity = 'TOTAL';
        }
        const out = await next(args);
        const consumed = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
        if (consumed?.CapacityUnits) onCapacity(consumed.CapacityUnits);
        return out;
      },
      { step: 'initialize', name: `berthConsoleCount-${service}` },
    );
  }
}

/** The log cursor of a CloudWatch stream: GetLogEvents' forward token. */
const TOKEN_PREFIX = 'cw:';

export class AwsConsoleSource implements DashboardSource {
  readonly label: string;
  /** GetLogEvents has an account-wide request rate: a live log is read every 2 s, not every second. */
  readonly logPollMs = 2000;
  /** SDK calls made, by `<client>.<Command>` (ddb, sqs, ecs, logs). */
  readonly calls = new Map<string, number>();
  /** DynamoDB read capacity units reported by the table (ConsumedCapacity). */
  readUnits = 0;
  /** Polls of the runs table done (each is one Query per run status, more only when a page of results is full). */
  polls = 0;
  private readonly store: DynamoRunStore;
  private readonly clients: SdkClients;
  private readonly names: Names;
  private readonly jobsByName: Map<string, Job>;
  private readonly now: () => Date;
  private readonly pollMs: number;
  private readonly listeners = new Set<(e: SourceEvent) => void>();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private lastPollError: string | undefined;
  /** Newest `updatedAt` the poll has seen (ISO), and what it reported, by run id. */
  private watermark = '';
  private readonly seen = new Map<string, string>();
  private readonly queueUrls = new Map<string, string | null>();
  private readonly queueCache = new Map<string, { at: number; stats: Promise<QueueStats> }>();
  private readonly logStreams = new Map<string, { group: string; stream: string }>();
  /** What ECS said about a task's awslogs options (null: nothing, use berth's names). */
  private readonly ecsLocations = new Map<string, { group: string; stream: string } | null>();
  private readonly attemptTasks = new Map<string, { job: string; taskArn: string | null }>();
  private readonly workers = new Map<string, WorkerPoolStatus>();
  /**
   * While the poll runs: runs read so far, kept current by the poll; how many of each job's newest runs are
   * in it (Infinity: all of them); which statuses were read (their newest `STATUS_SCAN`).
   */
  private readonly cache = new Map<string, RunRecord>();
  /** Runs seen final (their attempts are kept once read). */
  private readonly finalRuns = new Set<string>();
  private readonly finalAttempts = new Map<string, AttemptRecord[]>();
  private readonly memos = new Map<string, { at: number; value: Promise<unknown> }>();
  private readonly cachedNewest = new Map<string, number>();
  private readonly cachedStatuses = new Set<string>();

  constructor(private readonly options: AwsSourceOptions) {
    const base = {
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    };
    this.clients = {
      ddb: createDocumentClient(base),
      sqs: new SQSClient(base),
      ecs: new ECSClient(base),
      logs: new CloudWatchLogsClient(base),
    };
    instrument(this.clients, this.calls, (units) => {
      this.readUnits += units;
    });
    this.store = new DynamoRunStore(this.clients.ddb, options.resources.runsTable);
    this.names = createNames(options.service, options.stage);
    this.jobsByName = new Map(
      [...options.jobs].sort((a, b) => a.name.localeCompare(b.name)).map((j) => [j.name, j]),
    );
    this.now = options.now ?? (() => new Date());
    this.pollMs = options.pollMs ?? CONSOLE_POLL_MS;
    this.label = `stage ${options.stage}${options.region ? ` (${options.region})` : ''}`;
  }

  jobs(): Job[] {
    return [...this.jobsByName.values()];
  }

  /** Fire times from the job's schedules (AWS anchors a `rate()` at its start date, else at its creation). */
  nextFireTimes(job: string, count: number): string[] {
    const j = this.jobsByName.get(job);
    if (!j) return [];
    const from = this.now();
    const times: Date[] = [];
    for (const t of j.triggers) {
      if (t.kind !== 'schedule') continue;
      const startMs = t.startDate ? instantOfZonedIso(t.startDate, t.timezone) : undefined;
      const endMs = t.endDate ? instantOfZonedIso(t.endDate, t.timezone) : undefined;
      const after = startMs !== undefined && startMs - 1 > from.getTime() ? new Date(startMs - 1) : from;
      const anchor =
        t.expression.startsWith('rate(') && startMs !== undefined ? new Date(startMs) : undefined;
      for (const d of scheduleFireTimes(t.expression, {
        timezone: t.timezone,
        from: after,
        count,
        ...(anchor ? { anchor } : {}),
      })) {
        if (endMs === undefined || d.getTime() <= endMs) times.push(d);
      }
    }
    return times
      .sort((a, b) => a.getTime() - b.getTime())
      .slice(0, count)
      .map((d) => d.toISOString());
  }

  private async queueUrl(name: string, owner?: string): Promise<string | null> {
    const key = `${owner ?? ''}/${name}`;
    if (this.queueUrls.has(key)) return this.queueUrls.get(key) ?? null;
    let url: string | null = null;
    try {
      const out = await this.clients.sqs.send(
        new GetQueueUrlCommand({ QueueName: name, ...(owner ? { QueueOwnerAWSAccountId: owner } : {}) }),
      );
      url = out.QueueUrl ?? null;
    } catch (error) {
      if (!/NonExistentQueue|QueueDoesNotExist/.test((error as Error).name)) throw error;
    }
    this.queueUrls.set(key, url);
    return url;
  }

  async queueStats(job: string): Promise<QueueStats> {
    const cached = this.queueCache.get(job);
    const at = Date.now();
    if (cached && at - cached.at < QUEUE_STATS_TTL_MS) return cached.stats;
    const stats = this.readQueueStats(job);
    this.queueCache.set(job, { at, stats });
    stats.catch(() => this.queueCache.delete(job));
    return stats;
  }

  private async readQueueStats(job: string): Promise<QueueStats> {
    const zero = { visible: 0, inFlight: 0, delayed: 0, deadLetter: 0 };
    const j = this.jobsByName.get(job);
    const ref = j ? jobQueueRef(this.options.service, this.options.stage, j) : undefined;
    if (!ref) return zero;
    const url = await this.queueUrl(ref.name, ref.owner);
    if (!url) return zero;
    const out = await this.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
          'RedrivePolicy',
        ],
      }),
    );
    const a = out.Attributes ?? {};
    let deadLetter = 0;
    const policy = a.RedrivePolicy;
    const dlqArn = policy
      ? (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn
      : undefined;
    if (dlqArn) {
      const parts = dlqArn.split(':');
      const dlqUrl = await this.queueUrl(parts[5] ?? '', parts[4] || undefined);
      if (dlqUrl) {
        const d = await this.clients.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: dlqUrl,
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        );
        deadLetter = Number(d.Attributes?.ApproximateNumberOfMessages ?? 0);
      }
    }
    return {
      visible: Number(a.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      deadLetter,
    };
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    const runs = await this.readRuns(filter);
    // A final run's attempts never change again: listAttempts keeps them (the job page prices hundreds).
    if (this.finalRuns.size > MAX_CACHED_RUNS) {
      this.finalRuns.clear();
      this.finalAttempts.clear();
    }
    for (const r of runs) if (isFinalStatus(r.status)) this.finalRuns.add(r.runId);
    return runs;
  }

  private async readRuns(filter: RunFilter): Promise<RunRecord[]> {
    const limit = filter.limit ?? 100;
    if (filter.replayOf) {
      // No index by replayOf: the replays share the original's job (and are newer): its newest runs.
      const original = await this.getRun(filter.replayOf);
      if (!original) return [];
      const runs = this.pollTimer
        ? await this.cachedRuns({ job: original.job }, SCAN_RUNS)
        : await this.memo(`job:${original.job}`, () =>
            this.store.listRuns({ job: original.job, limit: SCAN_RUNS }),
          );
      return runs.filter((r) => r.replayOf === filter.replayOf && matches(r, filter)).slice(0, limit);
    }
    if (this.pollTimer && filter.job && !filter.since && !filter.search)
      return this.cachedRuns(filter, limit);
    if (filter.job && filter.status && !filter.since && !filter.search) {
      // The byJob index has no status: read the status's newest runs (all jobs, bounded) instead of the job's
      // whole history, shared by every job of a page render.
      const status = filter.status;
      const runs = await this.memo(`status:${status}`, () =>
        this.store.listByStatus(status, { limit: STATUS_SCAN }),
      );
      return runs
        .filter((r) => r.job === filter.job)
        .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
        .slice(0, limit);
    }
    const scan = filter.search ? Math.max(limit, SCAN_RUNS) : limit;
    const runs = await this.store.listRuns({
      ...(filter.job ? { job: filter.job } : {}),
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.since ? { since: filter.since } : {}),
      limit: scan,
    });
    return runs.filter((r) => matches(r, filter)).slice(0, limit);
  }

  /** One read shared by the calls of the next `MEMO_MS` (a page render asks the same thing per job or run). */
  private memo<T>(key: string, read: () => Promise<T>): Promise<T> {
    const at = Date.now();
    const hit = this.memos.get(key);
    if (hit && at - hit.at < MEMO_MS) return hit.value as Promise<T>;
    const value = read();
    this.memos.set(key, { at, value });
    value.catch(() => this.memos.delete(key));
    return value;
  }

  /** A job's runs (of a status) from memory, reading what is not there yet once. */
  private async cachedRuns(filter: RunFilter, limit: number): Promise<RunRecord[]> {
    const job = filter.job as string;
    if (filter.status) {
      if (!this.cachedStatuses.has(filter.status)) {
        const runs = await this.store.listByStatus(filter.status, { limit: STATUS_SCAN });
        this.remember(runs);
        this.cachedStatuses.add(filter.status);
      }
    } else if ((this.cachedNewest.get(job) ?? 0) < limit) {
      const runs = await this.store.listRuns({ job, limit });
      this.remember(runs);
      this.cachedNewest.set(job, runs.length < limit ? Number.POSITIVE_INFINITY : limit);
    }
    return [...this.cache.values()]
      .filter((r) => r.job === job && (!filter.status || r.status === filter.status) && matches(r, filter))
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
      .slice(0, limit);
  }

  /** Keeps the newer of two copies of a run (a busy stage's page open for days: dropped past `MAX_CACHED_RUNS`). */
  private remember(runs: readonly RunRecord[]): void {
    if (this.cache.size + runs.length > MAX_CACHED_RUNS) this.clearCache();
    for (const run of runs) {
      const cached = this.cache.get(run.runId);
      if (!cached || cached.updatedAt <= run.updatedAt) this.cache.set(run.runId, run);
    }
  }

  private clearCache(): void {
    this.cache.clear();
    this.cachedNewest.clear();
    this.cachedStatuses.clear();
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    // While the poll runs, a run it has seen is current in memory (the log tail asks on every read).
    const cached = this.pollTimer ? this.cache.get(runId) : undefined;
    if (cached) return cached;
    const run = await this.store.getRun(runId);
    if (run && this.pollTimer) this.remember([run]);
    return run;
  }

  async listAttempts(runId: string): Promise<AttemptRecord[]> {
    const kept = this.finalAttempts.get(runId);
    if (kept) return kept;
    const attempts = await this.store.listAttempts(runId);
    if (this.finalRuns.has(runId) && attempts.every((a) => a.status === 'ended')) {
      this.finalAttempts.set(runId, attempts);
    }
    return attempts;
  }

  /**
   * Where an attempt's log is: the awslogs options of its task definition (ECS DescribeTasks while ECS still
   * knows the task, about an hour after it stops), else the names berth's compiler gives (`/berth/<base>/jobs/<job>`
   * or the shared `/berth/<base>/jobs`, stream `<job>/main/<task id>`).
   */
  /** An attempt's job and task (kept once it has one: a task ARN never changes). */
  private async attemptTask(
    runId: string,
    attemptNo: number,
  ): Promise<{ job: string; taskArn: string | null } | undefined> {
    const key = `${runId}#${attemptNo}`;
    const known = this.attemptTasks.get(key);
    if (known) return known;
    const [run, attempts] = await Promise.all([this.getRun(runId), this.store.listAttempts(runId)]);
    const attempt = attempts.find((a) => a.attempt === attemptNo);
    if (!run || !attempt) return undefined;
    const found = { job: run.job, taskArn: attempt.taskArn };
    if (found.taskArn) this.attemptTasks.set(key, found);
    return found;
  }

  private async streamsOf(attempt: {
    job: string;
    taskArn: string | null;
  }): Promise<{ group: string; stream: string }[]> {
    const taskArn = attempt.taskArn;
    if (!taskArn) return [];
    const known = this.logStreams.get(taskArn);
    if (known) return [known];
    let found = this.ecsLocations.get(taskArn);
    if (found === undefined) {
      try {
        found = (await logLocation(this.clients.ecs, this.options.resources.cluster, attempt)) ?? null;
      } catch {
        // ECS may not describe it any more; the names below still find the stream.
        found = null;
      }
      this.ecsLocations.set(taskArn, found);
    }
    if (found) {
      this.logStreams.set(taskArn, found);
      return [found];
    }
    const stream = `${attempt.job}/main/${taskArn.slice(taskArn.lastIndexOf('/') + 1)}`;
    return [
      { group: this.names.jobLogGroup(attempt.job), stream },
      { group: this.names.logGroup, stream },
    ];
  }

  async readLog(runId: string, attemptNo: number, options: ReadLogOptions = {}): Promise<LogRead> {
    const empty: LogRead = {
      lines: [],
      next: options.offset ?? '',
      more: false,
      truncated: false,
      exists: false,
      partial: false,
      reset: false,
    };
    if (options.offset !== undefined && options.offset !== '' && !options.offset.startsWith(TOKEN_PREFIX)) {
      throw new RangeError(
        `log offset "${options.offset}" is not a CloudWatch Logs token — pass the "next" of an earlier read`,
      );
    }
    const attempt = await this.attemptTask(runId, attemptNo);
    if (!attempt) return empty;
    const token = options.offset ? options.offset.slice(TOKEN_PREFIX.length) : undefined;
    const tail = options.tail ?? DEFAULT_LOG_TAIL;
    for (const where of await this.streamsOf(attempt)) {
      let out: GetLogEventsCommandOutput;
      try {
        out = await this.clients.logs.send(
          new GetLogEventsCommand({
            logGroupName: where.group,
            logStreamName: where.stream,
            ...(token ? { nextToken: token, startFromHead: true } : { startFromHead: false, limit: tail }),
          }),
        );
      } catch (error) {
        // The stream appears with the container's first line (or lives in the other group).
        if ((error as Error).name === 'ResourceNotFoundException') continue;
        throw error;
      }
      if (attempt.taskArn) this.logStreams.set(attempt.taskArn, where);
      const events = out.events ?? [];
      const next = out.nextForwardToken ? `${TOKEN_PREFIX}${out.nextForwardToken}` : (options.offset ?? '');
      return {
        lines: events.map((e) => ({
          stream: lineStream(e.message ?? ''),
          text: (e.message ?? '').replace(/\r?\n$/, ''),
          ...(e.timestamp !== undefined ? { at: new Date(e.timestamp).toISOString() } : {}),
        })),
        next,
        // A page that came back with events may have more behind it; an empty one means "caught up".
        more: token !== undefined && events.length > 0 && out.nextForwardToken !== token,
        truncated: token === undefined && events.length >= tail,
        exists: true,
        partial: false,
        reset: false,
      };
    }
    return empty;
  }

  private async send(message: Parameters<typeof sendLaunchMessage>[2]): Promise<void> {
    await sendLaunchMessage(this.clients.sqs, this.options.resources.launchQueueUrl, message);
  }

  private requireJob(name: string): Job {
    const job = this.jobsByName.get(name);
    if (!job) throw new Error(`there is no job ${name} in this project's job files`);
    return job;
  }

  async invoke(job: string, payload?: unknown, options?: InvokeOptions): Promise<ActionResult> {
    this.requireJob(job);
    if (options?.s3) {
      throw Object.assign(
        new Error(
          `Run now with an object is for berth dev — on stage ${this.options.stage}, put the object in the bucket (aws s3 cp) and the job's rule starts the run`,
        ),
        { name: 'ManualS3Error' },
      );
    }
    const message: InvokeMessage = {
      type: 'invoke',
      job,
      requestId: randomUUID(),
      ...(payload !== undefined ? { payload: payload as Json } : {}),
    };
    await this.send(message);
    return { status: 'queued', runId: runIdFor(idempotencyKey(job, invokeTrigger(message))) };
  }

  private async requireRun(runId: string): Promise<RunRecord> {
    const run = await this.store.getRun(runId);
    if (!run) throw new Error(`there is no run ${runId} in stage ${this.options.stage}`);
    return run;
  }

  async replay(runId: string): Promise<ActionResult> {
    const run = await this.requireRun(runId);
    this.requireJob(run.job);
    const requestId = randomUUID();
    await this.send({ type: 'replay', job: run.job, runId: run.runId, requestId });
    return { status: 'queued', runId: runIdFor(replayIdempotencyKey(run.job, run.runId, requestId)) };
  }

  async replayFailed(job: string): Promise<ActionResult[]> {
    this.requireJob(job);
    const runs = await this.store.listRuns({ job, limit: SCAN_RUNS });
    const replayed = new Set(runs.flatMap((r) => (r.replayOf ? [r.replayOf] : [])));
    const failed = runs.filter(
      (r) => (r.status === 'failed' || r.status === 'timed_out') && !replayed.has(r.runId),
    );
    const out: ActionResult[] = [];
    for (const r of failed) out.push(await this.replay(r.runId));
    return out;
  }

  async cancel(runId: string): Promise<boolean> {
    const run = await this.requireRun(runId);
    if (isFinalStatus(run.status)) return false;
    if (run.status === 'running' || run.status === 'launching') {
      const attempt = (await this.store.listAttempts(runId)).find((a) => a.attempt === run.attempt);
      if (attempt?.taskArn) {
        // The interceptor records the stop: a reason starting "berth: cancelled" classifies as cancelled.
        await this.clients.ecs.send(
          new StopTaskCommand({
            cluster: this.options.resources.cluster,
            task: attempt.taskArn,
            reason: `${BERTH_STOP_REASONS.cancel} from the console`,
          }),
        );
        return true;
      }
      if (run.status === 'launching')
        throw new Error(`run ${runId} is launching and has no task yet — cancel it again in a few seconds`);
    }
    const now = this.now().toISOString();
    // No task: the run ends here; the sweeper publishes its Cancelled event from the outbox mark.
    return this.store.transition(runId, ['queued', 'retrying'], {
      status: 'cancelled',
      endedAt: now,
      updatedAt: now,
      outcome: 'cancelled',
      reason: BERTH_STOP_REASONS.cancel,
      decision: 'cancelled before it ran',
    });
  }

  async redrive(runId: string): Promise<ActionResult> {
    const run = await this.requireRun(runId);
    if (!run.deadLettered) {
      const by = /redriven as (r[0-9a-z]{20})/.exec(run.decision ?? '')?.[1];
      if (by) return { status: 'duplicate', runId: by };
      throw new Error(
        `${run.runId} is ${run.status}, not dead-lettered — only runs that failed for good can be redriven`,
      );
    }
    await this.send({ type: 'redrive', job: run.job, runId: run.runId, requestId: randomUUID() });
    return { status: 'queued', runId: runIdFor(redriveIdempotencyKey(run.job, run.runId)) };
  }

  async redriveQueue(job: string): Promise<number> {
    const ref = jobQueueRef(this.options.service, this.options.stage, this.requireJob(job));
    if (!ref) throw new Error(`job ${job} has no queue trigger: it has no dead-letter queue`);
    try {
      return await moveDeadLetters(this.clients.sqs, ref, { waitSeconds: 0 });
    } finally {
      // The page reads the queue again right after: not the cached count from before the move.
      this.queueCache.delete(job);
    }
  }

  workerPools(): WorkerPoolStatus[] {
    return [...this.workers.values()];
  }

  subscribe(listener: (e: SourceEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => void this.poll(), this.pollMs);
      this.pollTimer.unref?.();
      void this.poll();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.pollTimer) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
        this.clearCache();
      }
    };
  }

  /** Stops the shared poll (the server calls it on close). */
  close(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.listeners.clear();
    this.clearCache();
  }

  /**
   * One poll: the runs that changed since the last one, from each status partition of the byStatus index
   * (its sort key is `<updatedAt>#<runId>`), looking `POLL_OVERLAP_MS` further back and dropping what was
   * reported already. The first poll only sets the watermark. Then the worker counts of service-mode jobs.
   */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const first = this.watermark === '';
      const since = first
        ? new Date(this.now().getTime() - POLL_OVERLAP_MS).toISOString()
        : new Date(Date.parse(this.watermark) - POLL_OVERLAP_MS).toISOString();
      this.polls++;
      const lists = await Promise.all(RUN_STATUSES.map((status) => this.changedSince(status, since)));
      const changed = lists.flat().sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
      for (const run of changed) {
        if (run.updatedAt > this.watermark) this.watermark = run.updatedAt;
        const key = `${run.updatedAt}#${run.status}`;
        this.remember([run]);
        if (this.seen.get(run.runId) === key) continue;
        this.seen.set(run.runId, key);
        if (!first) for (const l of this.listeners) l({ type: 'run', run });
      }
      if (first && this.watermark === '') this.watermark = since;
      // Forget what fell out of the overlap window.
      const floor = new Date(Date.parse(this.watermark) - 2 * POLL_OVERLAP_MS).toISOString();
      for (const [id, key] of this.seen) if (key < floor) this.seen.delete(id);
      await this.pollWorkers();
      this.lastPollError = undefined;
    } catch (error) {
      // Tried again on the next tick; said once, so a missing grant does not go unnoticed.
      const message = `${(error as Error).name}: ${(error as Error).message}`;
      if (message !== this.lastPollError) {
        this.lastPollError = message;
        for (const l of this.listeners) l({ type: 'problem', message: `Live updates failed: ${message}` });
        (
          this.options.onPollError ??
          ((m) => void process.stderr.write(`berth console: live updates: ${m}\n`))
        )(message);
      }
    } finally {
      this.polling = false;
    }
  }

  private async changedSince(status: RunRecord['status'], since: string): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.clients.ddb.send(
        new QueryCommand({
          TableName: this.options.resources.runsTable,
          IndexName: RUNS_TABLE.gsiByStatus.name,
          KeyConditionExpression: '#pk = :pk AND #sk > :since',
          ExpressionAttributeNames: { '#pk': RUNS_TABLE.gsiByStatus.pk, '#sk': RUNS_TABLE.gsiByStatus.sk },
          ExpressionAttributeValues: { ':pk': `STATUS#${status}`, ':since': since },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      // The index projects every attribute: its items are whole runs.
      for (const item of out.Items ?? []) runs.push(toRun(item));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return runs;
  }

  private async pollWorkers(): Promise<void> {
    const serviceJobs = this.jobs().filter((j) =>
      j.triggers.some((t) => t.kind === 'queue' && t.mode === 'service'),
    );
    if (serviceJobs.length === 0) return;
    const cluster = this.options.resources.cluster;
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.clients.ecs.send(
        new ListServicesCommand({ cluster, ...(nextToken ? { nextToken } : {}) }),
      );
      arns.push(...(out.serviceArns ?? []));
      nextToken = out.nextToken;
    } while (nextToken);
    const at = this.now().toISOString();
    for (let i = 0; i < arns.length; i += 10) {
      const out = await this.clients.ecs.send(
        new DescribeServicesCommand({ cluster, services: arns.slice(i, i + 10), include: ['TAGS'] }),
      );
      for (const s of out.services ?? []) {
        const jobName = s.tags?.find((t) => t.key === 'berth:job')?.value;
        const job = serviceJobs.find((j) => j.name === jobName);
        const trigger = job?.triggers.find((t) => t.kind === 'queue');
        const options = trigger?.kind === 'queue' ? serviceOptionsOf(trigger) : undefined;
        if (!job || !options) continue;
        const prev = this.workers.get(job.name);
        const running = s.runningCount ?? 0;
        const desired = s.desiredCount ?? 0;
        const last = prev?.history.at(-1);
        const history = prev?.history ?? [];
        // A point when the count changed, as the local pools record it (visible: the queue when it did).
        if (!last || last.workers !== running) {
          const visible = (await this.queueStats(job.name)).visible;
          history.push({ at, workers: running, visible });
          if (history.length > MAX_WORKER_HISTORY) history.splice(0, history.length - MAX_WORKER_HISTORY);
        }
        this.workers.set(job.name, {
          job: job.name,
          minTasks: options.minTasks,
          maxTasks: options.maxTasks,
          backlogPerTask: options.backlogPerTask,
          desired,
          running,
          history,
        });
      }
    }
  }
}

/** The filters the table's queries cannot apply: search (run id or S3 key) and replayOf. */
function matches(run: RunRecord, filter: RunFilter): boolean {
  if (filter.replayOf && run.replayOf !== filter.replayOf) return false;
  if (filter.search) {
    const key = run.trigger.kind === 's3' ? run.trigger.key : '';
    if (!run.runId.includes(filter.search) && !key.includes(filter.search)) return false;
  }
  return true;
}
