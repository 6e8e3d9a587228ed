/**
 * The ports the run lifecycle talks to. `runtime/aws` implements them with DynamoDB, ECS, SQS and
 * EventBridge; `runtime/local` with SQLite, child processes and local queues. Nothing else differs.
 */
import type { AttemptEnd, Classification } from '../core/lifecycle/classify.js';
import type { OutcomeEvent } from '../core/lifecycle/events.js';
import type { AttemptStatus, OutcomeClass, RunStatus } from '../core/lifecycle/states.js';
import type { TriggerPayload } from '../core/lifecycle/trigger.js';
import type { Job } from '../core/model/job.js';

export interface RunRecord {
  runId: string;
  job: string;
  status: RunStatus;
  /** Number of the current (or last) attempt, from 1. */
  attempt: number;
  maxAttempts: number;
  trigger: TriggerPayload;
  idempotencyKey: string;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
  outcome: OutcomeClass | null;
  exitCode: number | null;
  stopCode: string | null;
  reason: string | null;
  /** Why the run was retried or ended. */
  decision: string | null;
  nextAttemptAt: string | null;
  taskArn: string | null;
  /** Set when the run failed for good and can be redriven. */
  deadLettered: boolean;
  /** The run this one replays or redrives (same trigger, new run); null for a run of its own trigger. */
  replayOf: string | null;
}

export interface AttemptRecord {
  runId: string;
  attempt: number;
  status: AttemptStatus;
  taskArn: string | null;
  /** FARGATE / FARGATE_SPOT / the EC2 capacity provider's name / EC2 / local / docker. */
  capacity: string | null;
  launchedAt: string;
  startedAt: string | null;
  stoppedAt: string | null;
  durationMs: number | null;
  outcome: OutcomeClass | null;
  exitCode: number | null;
  stopCode: string | null;
  reason: string | null;
  costUsd: number | null;
}

export interface RunFilter {
  job?: string;
  status?: RunStatus;
  since?: string;
  limit?: number;
}

/** The extra condition of a run transition, and what it writes besides the run. */
export interface TransitionOptions {
  /** Applies only when the run's current attempt is this one. */
  attempt?: number;
  /**
   * Opens an outbox entry for the `Retrying` event of attempt `attempt`, in the same write as the
   * transition (the AWS store; the local engine keeps all its events in its own outbox). The publisher clears
   * it once the event is out; the sweeper publishes what stays, so a crash or a failed SendMessage between the
   * state write and the event never loses the event.
   */
  retryEvent?: boolean;
}

export interface RunStore {
  /** Creates the run when its id is new. Returns false for a duplicate (the trigger was seen before). */
  createRun(run: RunRecord): Promise<boolean>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /**
   * Conditional state change: applies only when the run's status is one of `from` (and, when given, its
   * current attempt is `attempt`). Returns false when the condition fails: a duplicate or stale event.
   */
  transition(
    runId: string,
    from: readonly RunStatus[],
    patch: Partial<RunRecord> & { status: RunStatus },
    condition?: TransitionOptions,
  ): Promise<boolean>;
  /** Writes a new attempt; false when that attempt already exists. */
  createAttempt(attempt: AttemptRecord): Promise<boolean>;
  /** Updates an attempt; with `onlyIfNotEnded`, false when the attempt has already ended (dedupe of stops). */
  updateAttempt(
    runId: string,
    attempt: number,
    patch: Partial<AttemptRecord>,
    options?: { onlyIfNotEnded?: boolean },
  ): Promise<boolean>;
  listAttempts(runId: string): Promise<AttemptRecord[]>;
  listRuns(filter: RunFilter): Promise<RunRecord[]>;
  /** Runs of a job that hold or wait for capacity (launching, running). */
  countActive(job: string): Promise<number>;
  /**
   * Atomically takes one of `max` concurrency slots of a job for a run. Idempotent per run. False when full.
   */
  acquireSlot(job: string, runId: string, max: number): Promise<boolean>;
  releaseSlot(job: string, runId: string): Promise<void>;
}

/** Where one launch asks ECS to place the task. */
export type LaunchCapacity = 'FARGATE' | 'FARGATE_SPOT' | 'EC2';

export interface LaunchRequest {
  job: Job;
  run: RunRecord;
  attempt: number;
  /** The `BERTH_*` environment for the container. */
  environment: Record<string, string>;
  /**
   * `FARGATE` or `FARGATE_SPOT` for this try (the lifecycle picks the fallback), or `EC2`: the stack's EC2
   * capacity provider (jobs with `capacity: { provider: 'ec2' }`).
   */
  capacity: LaunchCapacity;
  clientToken: string;
  startedBy: string;
}

export type LaunchResult =
  | { ok: true; taskArn: string; capacity: string }
  /** No capacity, quota or a bad request: ECS `failures[]` or an immediate error. */
  | { ok: false; kind: 'capacity' | 'failed'; reason: string }
  /**
   * Throttled: try again later; nothing was started. With `retryAfterMs`, berth held the call back itself
   * (pacing under the RunTask quota) and ECS was not called: come back after that long.
   */
  | { ok: false; kind: 'throttled'; reason: string; retryAfterMs?: number };

export interface TaskLauncher {
  launch(request: LaunchRequest): Promise<LaunchResult>;
  /**
   * True when a launch with this environment fits the platform's request limits (ECS: the serialized
   * RunTask overrides). Without it the lifecycle compares `BERTH_TRIGGER`'s length with `maxInlineTrigger`.
   */
  fitsInline?(request: Pick<LaunchRequest, 'job' | 'run' | 'attempt' | 'environment'>): boolean;
}

/** A launch of one attempt of one run, possibly delayed. */
export interface LaunchMessage {
  type: 'launch';
  job: string;
  runId: string;
  attempt: number;
  /**
   * How many times ECS throttled this launch so far (absent: never). The back-off grows with it, not with
   * the attempt number: a first attempt throttled five times waits like a fifth throttle.
   */
  throttles?: number;
}

export interface LaunchQueue {
  enqueue(message: LaunchMessage, delayMs: number): Promise<void>;
}

export interface EventPublisher {
  publish(event: OutcomeEvent): Promise<void>;
}

export interface Clock {
  now(): Date;
  /** A number in [0, 1) for jitter. */
  random(): number;
}

export const systemClock: Clock = { now: () => new Date(), random: () => Math.random() };

export interface LifecycleDeps {
  store: RunStore;
  launcher: TaskLauncher;
  queue: LaunchQueue;
  events: EventPublisher;
  clock: Clock;
  environment: 'aws' | 'local';
  /** Payloads larger than this (characters of BERTH_TRIGGER) are stored and passed by reference. */
  maxInlineTrigger?: number;
  /**
   * Stores a large trigger payload and returns a reference (`s3://…` or a local path). On AWS the key is under
   * the job's own prefix (`triggers/<job>/`), the only part of the payload bucket its task role may read.
   */
  storePayload?: (runId: string, json: string, job: string) => Promise<string>;
}

/** What the interceptor (or the local runner) knows when an attempt stops. */
export interface StopReport extends AttemptEnd {
  runId: string;
  attempt: number;
  taskArn: string | null;
  startedAt: string | null;
  stoppedAt: string;
  /** Pull start (Fargate bills from here), else startedAt. */
  billedFrom?: string | null;
}

export type { Classification };
