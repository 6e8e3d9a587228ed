/**
 * The contract between the local engine (`berth dev`) and what sits on top of it in the same process:
 * the web dashboard, the engine's HTTP API and the terminal view. The engine implements it; nothing here
 * does I/O by itself.
 */
import type { OutcomeEvent } from '../../core/lifecycle/events.js';
import type { RunStatus } from '../../core/lifecycle/states.js';
import type { Job } from '../../core/model/job.js';
import type { AcceptResult } from '../lifecycle.js';
import type { LogRead, ReadLogOptions } from '../logs.js';
import type { AttemptRecord, RunRecord } from '../ports.js';
import type { WorkerPoolStatus } from './workers.js';

export type { AcceptResult, AttemptRecord, Job, OutcomeEvent, RunRecord, RunStatus, WorkerPoolStatus };

/** What `subscribe` delivers: every outcome event, and every change to a run record. */
export type LocalEngineEvent = { type: 'outcome'; event: OutcomeEvent } | { type: 'run'; run: RunRecord };

export interface LocalRunFilter {
  job?: string;
  status?: RunStatus;
  /** ISO timestamp: runs created at or after it. */
  since?: string;
  /** Matches a run id (prefix or substring) or the S3 key of the trigger (substring). */
  search?: string;
  /** Only the replays (and redrives) of this run. */
  replayOf?: string;
  /** Newest first; default 100. */
  limit?: number;
}

export interface InvokeOptions {
  /** Invoke an S3-triggered job as if this object had been written (bucket defaults to the job's one). */
  s3?: { bucket?: string; key: string };
}

export interface QueueStats {
  /** Messages ready to be received now. */
  visible: number;
  /** Received and not yet deleted (inside their visibility timeout). */
  inFlight: number;
  /** Sent with a delay that has not yet passed. */
  delayed: number;
  /** Messages moved to the dead-letter queue after `maxReceiveCount` receives. */
  deadLetter: number;
}

export interface LocalEngineApi {
  /** The loaded jobs, in name order. */
  jobs(): Job[];
  /** The next `count` fire times (ISO, UTC) of a scheduled job; `[]` for a job without a schedule. */
  nextFireTimes(job: string, count: number): string[];
  /** Counts for the job's own queue (zeros when the job has no queue trigger). */
  queueStats(job: string): Promise<QueueStats>;
  listRuns(filter: LocalRunFilter): Promise<RunRecord[]>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  listAttempts(runId: string): Promise<AttemptRecord[]>;
  /** Absolute path of an attempt's log file (it may not exist yet). */
  logPath(runId: string, attempt: number): string;
  /** An attempt's log as lines (the dashboard's log view): the last lines, or on from a cursor. */
  readLog(runId: string, attempt: number, options?: ReadLogOptions): Promise<LogRead>;
  /**
   * Starts a manual run. Rejects with an Error for an unknown job. With `s3`, an S3-triggered job gets the
   * S3-shaped trigger of the object at that key in its bucket folder (rejects when there is none).
   */
  invoke(job: string, payload?: unknown, options?: InvokeOptions): Promise<AcceptResult>;
  /** A new run with the same trigger as `runId`. */
  replay(runId: string): Promise<AcceptResult>;
  /** Replays every failed or timed-out run of a job that has not been replayed yet. */
  replayFailed(job: string): Promise<AcceptResult[]>;
  /** Cancels a queued, retrying or running run (running: SIGTERM then SIGKILL). False when already final. */
  cancel(runId: string): Promise<boolean>;
  /** Redrives a dead-lettered run: a new run for the same trigger. Rejects when the run is not dead-lettered. */
  redrive(runId: string): Promise<AcceptResult>;
  /** Moves the job queue's dead-letter messages back to the queue (SQS "start DLQ redrive"); how many moved. */
  redriveQueue(job: string): Promise<number>;
  /** Listens to outcome events and run changes; returns the unsubscribe function. */
  subscribe(listener: (e: LocalEngineEvent) => void): () => void;
  /** Worker pools of service-mode queue jobs with their counts over time (what `GET /api/workers` serves). */
  workerPools?(): WorkerPoolStatus[];
  /**
   * Job or subscriber files that failed to load since a save (their last good version stays in use), one line
   * each (`file: path: problem — fix`); empty when every file loads.
   */
  loadProblems?(): readonly { kind: 'jobs' | 'subscribers'; file?: string; message: string }[];
}

/**
 * What the dashboard module (`src/dashboard/index.ts`) exports for the engine to mount (the engine's API is one
 * `DashboardSource`). The handler returns true when it handled the request; the engine serves its own API
 * otherwise.
 */
export type CreateDashboard = (
  api: LocalEngineApi,
  options: { token: string },
) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<boolean>;
