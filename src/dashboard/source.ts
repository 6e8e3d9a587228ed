/**
 * What the dashboard needs from where the runs live. Two implementations:
 * - the local engine of `berth dev` (`LocalEngineApi` in src/runtime/local/api.ts satisfies it), which pushes
 *   every run change through `subscribe`;
 * - the console of a deployed stage (`berth console --stage`, src/console/awsSource.ts): runs from the runs
 *   table, logs from CloudWatch Logs, queues from SQS, workers from ECS. Its `subscribe` polls the runs table
 *   (one query per run status per poll, shared by every open page).
 * A source without `subscribe` is polled by each open page (`listRuns` every `POLL_MS`, see events.ts).
 */
import type { RunStatus } from '../core/lifecycle/states.js';
import type { Job } from '../core/model/job.js';
import type { AcceptResult } from '../runtime/lifecycle.js';
import type {
  InvokeOptions,
  LocalEngineEvent,
  LocalRunFilter,
  QueueStats,
  WorkerPoolStatus,
} from '../runtime/local/api.js';
import type { LogLine, LogRead, LogStream, ReadLogOptions } from '../runtime/logs.js';
import type { AttemptRecord, RunRecord } from '../runtime/ports.js';

export type {
  AttemptRecord,
  InvokeOptions,
  Job,
  LogLine,
  LogRead,
  LogStream,
  QueueStats,
  ReadLogOptions,
  RunRecord,
  RunStatus,
  WorkerPoolStatus,
};

/** A run filter: job, status, since (ISO), search, replayOf, limit (newest first). */
export type RunFilter = LocalRunFilter;

/**
 * What `subscribe` delivers: the dashboard uses the `run` changes, and shows a `problem` (a source that polls
 * says so when its polls start failing) on every open page.
 */
export type SourceEvent = LocalEngineEvent | { type: 'problem'; message: string };

/**
 * The answer to an action. The local engine accepts a trigger at once (`accepted`, `duplicate`, `skipped`);
 * a deployed stage puts a message on its launch queue (`queued`: the launcher starts run `runId` when it
 * takes the message).
 */
export type ActionResult = AcceptResult | { status: 'queued'; runId: string };

export interface DashboardSource {
  /** Shown in the page header and title, e.g. `stage prod (eu-west-1)`. @default 'berth dev' */
  readonly label?: string;
  /** The jobs, in name order. */
  jobs(): Job[];
  /** The next `count` fire times (ISO, UTC) of a scheduled job; `[]` for a job without a schedule. */
  nextFireTimes(job: string, count: number): string[];
  /** Counts for the job's own queue (zeros when the job has no queue trigger). */
  queueStats(job: string): Promise<QueueStats>;
  listRuns(filter: RunFilter): Promise<RunRecord[]>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  listAttempts(runId: string): Promise<AttemptRecord[]>;
  /**
   * An attempt's log as lines: the last `tail` lines, or from the cursor `offset` (an earlier read's `next`).
   * Only ever called for an attempt of a run that exists.
   */
  readLog(runId: string, attempt: number, options?: ReadLogOptions): Promise<LogRead>;
  /** How often the page reads on in a live log. @default 1000 */
  readonly logPollMs?: number;
  /** Starts a manual run. Rejects with an Error for an unknown job or a bad input. */
  invoke(job: string, payload?: unknown, options?: InvokeOptions): Promise<ActionResult>;
  /** A new run with the same trigger as `runId`. */
  replay(runId: string): Promise<ActionResult>;
  /** Replays every failed or timed-out run of a job that has not been replayed yet. */
  replayFailed(job: string): Promise<ActionResult[]>;
  /** Cancels a queued, retrying or running run. False when it has already ended. */
  cancel(runId: string): Promise<boolean>;
  /** Redrives a dead-lettered run: a new run for the same trigger. Rejects when it is not dead-lettered. */
  redrive(runId: string): Promise<ActionResult>;
  /**
   * Moves a job queue's dead-letter messages back to the queue; resolves to how many moved. Absent where
   * there is nothing to move (locally, dead letters are runs).
   */
  redriveQueue?(job: string): Promise<number>;
  /** Listens to run changes; returns the unsubscribe function. Absent: the pages poll `listRuns`. */
  subscribe?(listener: (e: SourceEvent) => void): () => void;
  /** Worker pools of service-mode queue jobs with their counts over time. */
  workerPools?(): WorkerPoolStatus[];
  /** Job or subscriber files that fail to load, one line each; empty when every file loads. */
  loadProblems?(): readonly { kind: 'jobs' | 'subscribers'; file?: string; message: string }[];
}
