/**
 * An in-memory `AwsRunStore` with the same conditional semantics as `DynamoRunStore`: for unit tests and the
 * launch benchmark, where DynamoDB itself is not what is measured.
 */
import { isFinalStatus, type RunStatus } from '../../core/lifecycle/states.js';
import type { AttemptRecord, RunFilter, RunRecord, TransitionOptions } from '../ports.js';
import {
  type AwsRunStore,
  type PendingRetryEvent,
  pendingRetryEvent,
  type SlotHolder,
} from './awsRunStore.js';

const clone = <T>(value: T): T => structuredClone(value);

export class MemoryRunStore implements AwsRunStore {
  readonly runs = new Map<string, RunRecord & { eventPending?: boolean }>();
  readonly attempts = new Map<string, AttemptRecord>();
  readonly slots = new Map<string, SlotHolder>();
  readonly taskVersions = new Map<string, number>();
  /** Outbox entries of `Retrying` events, by `<runId>#<attempt>`, until published. */
  readonly retryEvents = new Map<string, PendingRetryEvent>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  async createRun(run: RunRecord): Promise<boolean> {
    if (this.runs.has(run.runId)) return false;
    this.runs.set(run.runId, clone(run));
    return true;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const run = this.runs.get(runId);
    if (!run) return undefined;
    const { eventPending: _p, ...rest } = run;
    return clone(rest);
  }

  async transition(
    runId: string,
    from: readonly RunStatus[],
    patch: Partial<RunRecord> & { status: RunStatus },
    condition: TransitionOptions = {},
  ): Promise<boolean> {
    const run = this.runs.get(runId);
    if (!run || !from.includes(run.status)) return false;
    if (condition.attempt !== undefined && run.attempt !== condition.attempt) return false;
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const updatedAt = patch.updatedAt ?? this.now().toISOString();
    Object.assign(run, clone(defined), { updatedAt });
    if (isFinalStatus(patch.status)) run.eventPending = true;
    if (condition.retryEvent) {
      const entry = pendingRetryEvent(runId, patch, condition, updatedAt);
      this.retryEvents.set(`${runId}#${entry.attempt}`, entry);
    }
    return true;
  }

  async createAttempt(attempt: AttemptRecord): Promise<boolean> {
    const key = `${attempt.runId}#${attempt.attempt}`;
    if (this.attempts.has(key)) return false;
    this.attempts.set(key, clone(attempt));
    return true;
  }

  async updateAttempt(
    runId: string,
    attempt: number,
    patch: Partial<AttemptRecord>,
    options: { onlyIfNotEnded?: boolean } = {},
  ): Promise<boolean> {
    const record = this.attempts.get(`${runId}#${attempt}`);
    if (!record) return false;
    if (options.onlyIfNotEnded && record.status === 'ended') return false;
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    Object.assign(record, clone(defined));
    return true;
  }

  async listAttempts(runId: string): Promise<AttemptRecord[]> {
    return [...this.attempts.values()]
      .filter((a) => a.runId === runId)
      .sort((a, b) => a.attempt - b.attempt)
      .map(clone);
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    return [...this.runs.values()]
      .filter((r) => (!filter.job || r.job === filter.job) && (!filter.status || r.status === filter.status))
      .filter((r) => !filter.since || r.createdAt >= (filter.since as string))
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
      .slice(0, filter.limit ?? 50)
      .map(({ eventPending: _p, ...r }) => clone(r));
  }

  async listByStatus(
    status: RunStatus,
    options: { before?: Date; limit?: number } = {},
  ): Promise<RunRecord[]> {
    return [...this.runs.values()]
      .filter((r) => r.status === status && (!options.before || r.updatedAt < options.before.toISOString()))
      .slice(0, options.limit ?? Number.POSITIVE_INFINITY)
      .map(({ eventPending: _p, ...r }) => clone(r));
  }

  async countActive(job: string): Promise<number> {
    return [...this.runs.values()].filter(
      (r) => r.job === job && (r.status === 'launching' || r.status === 'running'),
    ).length;
  }

  async acquireSlot(job: string, runId: string, max: number): Promise<boolean> {
    const key = `${job}#${runId}`;
    if (this.slots.has(key)) return true;
    const held = [...this.slots.values()].filter((s) => s.job === job).length;
    if (held >= max) return false;
    this.slots.set(key, { job, runId, acquiredAt: this.now().toISOString() });
    return true;
  }

  async releaseSlot(job: string, runId: string): Promise<void> {
    this.slots.delete(`${job}#${runId}`);
  }

  async listSlots(job: string): Promise<SlotHolder[]> {
    return [...this.slots.values()].filter((s) => s.job === job).map(clone);
  }

  async recordTaskVersion(taskArn: string, version: number): Promise<boolean> {
    const seen = this.taskVersions.get(taskArn);
    if (seen !== undefined && seen > version) return false;
    this.taskVersions.set(taskArn, version);
    return true;
  }

  async markEventPublished(runId: string): Promise<void> {
    const run = this.runs.get(runId);
    if (run) delete run.eventPending;
  }

  async markRetryEventPublished(runId: string, attempt: number): Promise<void> {
    this.retryEvents.delete(`${runId}#${attempt}`);
  }

  async listUnpublishedRetryEvents(before: Date, limit = 100): Promise<PendingRetryEvent[]> {
    return [...this.retryEvents.values()]
      .filter((e) => e.updatedAt < before.toISOString())
      .sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : 1))
      .slice(0, limit)
      .map(clone);
  }

  async listUnpublishedFinalRuns(before: Date, limit = 100): Promise<RunRecord[]> {
    return [...this.runs.values()]
      .filter((r) => r.eventPending && r.updatedAt < before.toISOString())
      .slice(0, limit)
      .map(({ eventPending: _p, ...r }) => clone(r));
  }
}
