/** An in-memory LocalEngineApi for dashboard tests: runs and attempts are plain objects the test edits. */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TriggerPayload } from '../../src/core/lifecycle/trigger.js';
import type { Job, JobInput } from '../../src/core/model/job.js';
import { validateJob } from '../../src/core/model/validate.js';
import { nextFireTimes } from '../../src/core/schedule/index.js';
import { newRunRecord } from '../../src/runtime/lifecycle.js';
import type {
  AcceptResult,
  InvokeOptions,
  LocalEngineApi,
  LocalEngineEvent,
  LocalRunFilter,
  QueueStats,
  WorkerPoolStatus,
} from '../../src/runtime/local/api.js';
import { type LogRead, type ReadLogOptions, readLogFile } from '../../src/runtime/logs.js';
import type { AttemptRecord, RunRecord } from '../../src/runtime/ports.js';

export function job(input: JobInput, file = `jobs/${input.name}.ts`): Job {
  const result = validateJob(input, file);
  if (!result.ok) throw new Error(result.issues.map((i) => `${i.path}: ${i.problem}`).join('; '));
  return result.job;
}

export const EXAMPLE_JOBS: Job[] = [
  job({
    name: 'nightly-report',
    description: "Build yesterday's sales report at 02:00 in Seoul",
    trigger: { schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Asia/Seoul' } },
    task: { image: 'public.ecr.aws/docker/library/node:22-alpine', cpu: 1024, memory: 2048 },
    overlap: 'skip',
  }),
  job({
    name: 'thumbnail',
    description: 'Resize every .jpg uploaded to uploads/images/ into a thumbnail',
    trigger: { s3: { bucket: 'uploads', prefix: 'images/', suffix: '.jpg' } },
    task: { image: 'public.ecr.aws/docker/library/node:22-alpine', cpu: 512, memory: 1024 },
  }),
];

/** A service-mode queue job like the example `email-sender` (0–10 workers, 20 messages per worker). */
export const SERVICE_JOB: Job = job({
  name: 'email-sender',
  description: 'Send queued emails with a worker fleet sized by the backlog',
  trigger: {
    queue: {
      mode: 'service',
      visibilityTimeout: '1m',
      service: { minTasks: 0, maxTasks: 10, backlogPerTask: 20 },
    },
  },
  task: {
    image: 'public.ecr.aws/docker/library/node:22-alpine',
    cpu: 256,
    memory: 512,
    capacity: 'FARGATE_SPOT_WITH_FALLBACK',
  },
});

export interface Call {
  method: string;
  args: unknown[];
}

let counter = 0;
function newRunId(): string {
  counter += 1;
  return `r${String(counter).padStart(20, '0')}`;
}

export class FakeEngine implements LocalEngineApi {
  readonly runs = new Map<string, RunRecord>();
  readonly attempts = new Map<string, AttemptRecord[]>();
  readonly calls: Call[] = [];
  readonly queues = new Map<string, QueueStats>();
  /** Worker pools of service-mode jobs, as the engine's `workerPools()` reports them. */
  pools: WorkerPoolStatus[] = [];
  private readonly listeners = new Set<(e: LocalEngineEvent) => void>();

  constructor(
    readonly jobList: Job[],
    readonly logDir: string,
    readonly clock: () => Date = () => new Date(),
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  jobs(): Job[] {
    return [...this.jobList].sort((a, b) => a.name.localeCompare(b.name));
  }

  nextFireTimes(name: string, count: number): string[] {
    const j = this.jobList.find((x) => x.name === name);
    const t = j?.triggers.find((x) => x.kind === 'schedule');
    if (t?.kind !== 'schedule') return [];
    return nextFireTimes(t.expression, { timezone: t.timezone ?? 'UTC', from: this.clock(), count }).map(
      (d) => d.toISOString(),
    );
  }

  async queueStats(name: string): Promise<QueueStats> {
    return this.queues.get(name) ?? { visible: 0, inFlight: 0, delayed: 0, deadLetter: 0 };
  }

  async listRuns(filter: LocalRunFilter): Promise<RunRecord[]> {
    this.calls.push({ method: 'listRuns', args: [filter] });
    return [...this.runs.values()]
      .filter((r) => !filter.job || r.job === filter.job)
      .filter((r) => !filter.status || r.status === filter.status)
      .filter((r) => !filter.since || r.createdAt >= filter.since)
      .filter((r) => !filter.replayOf || r.replayOf === filter.replayOf)
      .filter(
        (r) =>
          !filter.search ||
          r.runId.includes(filter.search) ||
          (r.trigger.kind === 's3' && r.trigger.key.includes(filter.search)),
      )
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, filter.limit ?? 100);
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.runs.get(runId);
  }

  async listAttempts(runId: string): Promise<AttemptRecord[]> {
    return this.attempts.get(runId) ?? [];
  }

  logPath(runId: string, attempt: number): string {
    return join(this.logDir, `${runId}.${attempt}.log`);
  }

  readLog(runId: string, attempt: number, options?: ReadLogOptions): Promise<LogRead> {
    return readLogFile(this.logPath(runId, attempt), options);
  }

  writeLog(runId: string, attempt: number, text: string): void {
    writeFileSync(this.logPath(runId, attempt), text);
  }

  /** Adds (or replaces) a run and tells subscribers, as the engine does on every change. */
  put(run: RunRecord, attempts?: AttemptRecord[]): RunRecord {
    this.runs.set(run.runId, run);
    if (attempts) this.attempts.set(run.runId, attempts);
    this.emit({ type: 'run', run });
    return run;
  }

  emit(e: LocalEngineEvent): void {
    for (const l of this.listeners) l(e);
  }

  private accept(jobName: string, trigger: TriggerPayload, replayOf: string | null = null): AcceptResult {
    const run = makeRun({ job: jobName, trigger, replayOf, createdAt: this.clock().toISOString() });
    this.put(run, []);
    return { status: 'accepted', runId: run.runId };
  }

  async invoke(name: string, payload?: unknown, options?: InvokeOptions): Promise<AcceptResult> {
    this.calls.push({ method: 'invoke', args: options ? [name, payload, options] : [name, payload] });
    if (!this.jobList.some((j) => j.name === name)) throw new Error(`unknown job ${name}`);
    if (options?.s3) {
      if (options.s3.key === 'missing.jpg') {
        const error = new Error(`key: no object missing.jpg in .berth/buckets/uploads — put it there first`);
        error.name = 'ManualS3Error';
        throw error;
      }
      return this.accept(name, {
        kind: 's3',
        bucket: options.s3.bucket ?? 'uploads',
        key: options.s3.key,
        size: 1,
        time: this.clock().toISOString(),
      });
    }
    return this.accept(name, { kind: 'manual', requestId: `req-${counter}`, payload: payload as never });
  }

  async replay(runId: string): Promise<AcceptResult> {
    this.calls.push({ method: 'replay', args: [runId] });
    const run = this.runs.get(runId);
    if (!run) throw new Error(`unknown run ${runId}`);
    // As the engine does: the original trigger unchanged, the link on the new run.
    return this.accept(run.job, run.trigger, runId);
  }

  async replayFailed(name: string): Promise<AcceptResult[]> {
    this.calls.push({ method: 'replayFailed', args: [name] });
    const failed = [...this.runs.values()].filter((r) => r.job === name && r.status === 'failed');
    return Promise.all(failed.map((r) => this.replay(r.runId)));
  }

  async cancel(runId: string): Promise<boolean> {
    this.calls.push({ method: 'cancel', args: [runId] });
    const run = this.runs.get(runId);
    if (!run || ['succeeded', 'failed', 'timed_out', 'cancelled'].includes(run.status)) return false;
    this.put({ ...run, status: 'cancelled', endedAt: this.clock().toISOString(), outcome: 'cancelled' });
    return true;
  }

  /** Moves the queue's dead letters back: `queues` loses them to `visible`. */
  async redriveQueue(name: string): Promise<number> {
    this.calls.push({ method: 'redriveQueue', args: [name] });
    const q = await this.queueStats(name);
    this.queues.set(name, { ...q, visible: q.visible + q.deadLetter, deadLetter: 0 });
    return q.deadLetter;
  }

  async redrive(runId: string): Promise<AcceptResult> {
    this.calls.push({ method: 'redrive', args: [runId] });
    const run = this.runs.get(runId);
    if (!run?.deadLettered) throw new Error(`run ${runId} is not dead-lettered`);
    return this.accept(run.job, run.trigger);
  }

  workerPools(): WorkerPoolStatus[] {
    return this.pools;
  }

  subscribe(listener: (e: LocalEngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}

export function makeRun(over: Partial<RunRecord> & { job: string }): RunRecord {
  const createdAt = over.createdAt ?? '2026-11-26T10:00:00.000Z';
  return newRunRecord({
    runId: newRunId(),
    status: 'queued',
    maxAttempts: 3,
    trigger: { kind: 'manual', requestId: 'req' },
    idempotencyKey: `${over.job}#manual#${counter}`,
    createdAt,
    ...over,
  });
}

export function makeAttempt(
  over: Partial<AttemptRecord> & { runId: string; attempt: number },
): AttemptRecord {
  return {
    status: 'ended',
    taskArn: 'local:4242',
    capacity: 'local',
    launchedAt: '2026-11-26T10:00:00.000Z',
    startedAt: '2026-11-26T10:00:01.000Z',
    stoppedAt: '2026-11-26T10:00:05.000Z',
    durationMs: 4000,
    outcome: 'succeeded',
    exitCode: 0,
    stopCode: null,
    reason: null,
    costUsd: 0.000012,
    ...over,
  };
}
