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
 *
 * This class wires the parts in src/console/aws: `runs.ts` (the poll, its memory and the runs reads),
 * `logs.ts` (CloudWatch Logs), `queues.ts` (SQS counts, dead letters, ECS workers), `actions.ts`.
 */
import { createNames } from '../compiler/naming.js';
import type { Job } from '../core/model/job.js';
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
import { DynamoRunStore } from '../runtime/aws/dynamoRunStore.js';
import type { StackResources } from '../runtime/aws/stage.js';
import type { LogRead, ReadLogOptions } from '../runtime/logs.js';
import type { AttemptRecord, RunRecord } from '../runtime/ports.js';
import { ConsoleActions } from './aws/actions.js';
import { createClients, instrument, type SourceContext } from './aws/context.js';
import { ConsoleLogs } from './aws/logs.js';
import { ConsoleQueues } from './aws/queues.js';
import { ConsoleRuns } from './aws/runs.js';

export { QUEUE_STATS_TTL_MS } from './aws/queues.js';
export { CONSOLE_POLL_MS } from './aws/runs.js';

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

export class AwsConsoleSource implements DashboardSource {
  readonly label: string;
  /** GetLogEvents has an account-wide request rate: a live log is read every 2 s, not every second. */
  readonly logPollMs = 2000;
  /** SDK calls made, by `<client>.<Command>` (ddb, sqs, ecs, logs). */
  readonly calls = new Map<string, number>();
  /** DynamoDB read capacity units reported by the table (ConsumedCapacity). */
  readUnits = 0;
  private readonly ctx: SourceContext;
  private readonly runs: ConsoleRuns;
  private readonly logs: ConsoleLogs;
  private readonly queues: ConsoleQueues;
  private readonly actions: ConsoleActions;

  constructor(options: AwsSourceOptions) {
    const clients = createClients({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    });
    instrument(clients, this.calls, (units) => {
      this.readUnits += units;
    });
    this.ctx = {
      stage: options.stage,
      service: options.service,
      resources: options.resources,
      clients,
      store: new DynamoRunStore(clients.ddb, options.resources.runsTable),
      names: createNames(options.service, options.stage),
      jobsByName: new Map(
        [...options.jobs].sort((a, b) => a.name.localeCompare(b.name)).map((j) => [j.name, j]),
      ),
      now: options.now ?? (() => new Date()),
    };
    this.queues = new ConsoleQueues(this.ctx);
    this.runs = new ConsoleRuns(this.ctx, {
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
      ...(options.onPollError ? { onPollError: options.onPollError } : {}),
      afterPoll: () => this.queues.pollWorkers(),
    });
    this.logs = new ConsoleLogs(this.ctx, (runId) => this.runs.getRun(runId));
    this.actions = new ConsoleActions(this.ctx);
    this.label = `stage ${options.stage}${options.region ? ` (${options.region})` : ''}`;
  }

  /** Polls of the runs table done (each is one Query per run status, more only when a page of results is full). */
  get polls(): number {
    return this.runs.polls;
  }

  jobs(): Job[] {
    return [...this.ctx.jobsByName.values()];
  }

  /** Fire times from the job's schedules (AWS anchors a `rate()` at its start date, else at its creation). */
  nextFireTimes(job: string, count: number): string[] {
    const j = this.ctx.jobsByName.get(job);
    if (!j) return [];
    const from = this.ctx.now();
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

  queueStats(job: string): Promise<QueueStats> {
    return this.queues.queueStats(job);
  }

  redriveQueue(job: string): Promise<number> {
    return this.queues.redriveQueue(job);
  }

  workerPools(): WorkerPoolStatus[] {
    return this.queues.workerPools();
  }

  listRuns(filter: RunFilter): Promise<RunRecord[]> {
    return this.runs.listRuns(filter);
  }

  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.runs.getRun(runId);
  }

  listAttempts(runId: string): Promise<AttemptRecord[]> {
    return this.runs.listAttempts(runId);
  }

  readLog(runId: string, attemptNo: number, options: ReadLogOptions = {}): Promise<LogRead> {
    return this.logs.readLog(runId, attemptNo, options);
  }

  invoke(job: string, payload?: unknown, options?: InvokeOptions): Promise<ActionResult> {
    return this.actions.invoke(job, payload, options);
  }

  replay(runId: string): Promise<ActionResult> {
    return this.actions.replay(runId);
  }

  replayFailed(job: string): Promise<ActionResult[]> {
    return this.actions.replayFailed(job);
  }

  cancel(runId: string): Promise<boolean> {
    return this.actions.cancel(runId);
  }

  redrive(runId: string): Promise<ActionResult> {
    return this.actions.redrive(runId);
  }

  subscribe(listener: (e: SourceEvent) => void): () => void {
    return this.runs.subscribe(listener);
  }

  /** Stops the shared poll (the server calls it on close). */
  close(): void {
    this.runs.close();
  }

  /** One poll of the runs table (the runs that changed since the last), then the worker counts. */
  poll(): Promise<void> {
    return this.runs.poll();
  }
}
