/**
 * The console's runs: ONE shared poll of the runs table for every open page (`subscribe`), every `pollMs`:
 * one Query per run status on the `byStatus` index for runs whose `updatedAt` moved since the last poll. While
 * it runs, the runs read for a job's row are kept in memory and updated from the poll; otherwise a page
 * render's repeated reads are shared for `MEMO_MS`. A final run's attempts are kept once read.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { isFinalStatus, RUN_STATUSES } from '../../core/lifecycle/states.js';
import type { RunFilter, SourceEvent } from '../../dashboard/source.js';
import { toRun } from '../../runtime/aws/dynamoRunStore.js';
import { RUNS_TABLE } from '../../runtime/aws/tableSchema.js';
import type { AttemptRecord, RunRecord } from '../../runtime/ports.js';
import type { SourceContext } from './context.js';

/** How often the shared poll reads the runs table while a page is open. */
export const CONSOLE_POLL_MS = 5000;
/** How far back each poll looks before the newest change it saw (GSIs are eventually consistent). */
const POLL_OVERLAP_MS = 15_000;
/** Runs read for a search or a `replayOf` filter (neither has an index: the newest runs are filtered). */
export const SCAN_RUNS = 500;
/** Most runs kept in memory; past it the memory starts again (each job's runs are read again once). */
const MAX_CACHED_RUNS = 20_000;
/** How long a read is shared by the calls of one page render. */
const MEMO_MS = 3000;
/** Runs of one status (all jobs) read once for the failed/timed-out counts while the poll runs. */
const STATUS_SCAN = 1000;

export interface RunsOptions {
  /** @default CONSOLE_POLL_MS */
  pollMs?: number;
  /** Told when a poll fails, once per new message. @default a line on standard error */
  onPollError?: (message: string) => void;
  /** Run at the end of every poll, inside its error handling (the worker counts). */
  afterPoll: () => Promise<void>;
}

export class ConsoleRuns {
  /** Polls of the runs table done (each is one Query per run status, more only when a page of results is full). */
  polls = 0;
  private readonly pollMs: number;
  private readonly listeners = new Set<(e: SourceEvent) => void>();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private lastPollError: string | undefined;
  /** Newest `updatedAt` the poll has seen (ISO), and what it reported, by run id. */
  private watermark = '';
  private readonly seen = new Map<string, string>();
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

  constructor(
    private readonly ctx: SourceContext,
    private readonly options: RunsOptions,
  ) {
    this.pollMs = options.pollMs ?? CONSOLE_POLL_MS;
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
    const store = this.ctx.store;
    const limit = filter.limit ?? 100;
    if (filter.replayOf) {
      // No index by replayOf: the replays share the original's job (and are newer): its newest runs.
      const original = await this.getRun(filter.replayOf);
      if (!original) return [];
      const runs = this.pollTimer
        ? await this.cachedRuns({ job: original.job }, SCAN_RUNS)
        : await this.memo(`job:${original.job}`, () =>
            store.listRuns({ job: original.job, limit: SCAN_RUNS }),
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
        store.listByStatus(status, { limit: STATUS_SCAN }),
      );
      return runs
        .filter((r) => r.job === filter.job)
        .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
        .slice(0, limit);
    }
    const scan = filter.search ? Math.max(limit, SCAN_RUNS) : limit;
    const runs = await store.listRuns({
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
        const runs = await this.ctx.store.listByStatus(filter.status, { limit: STATUS_SCAN });
        this.remember(runs);
        this.cachedStatuses.add(filter.status);
      }
    } else if ((this.cachedNewest.get(job) ?? 0) < limit) {
      const runs = await this.ctx.store.listRuns({ job, limit });
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
    const run = await this.ctx.store.getRun(runId);
    if (run && this.pollTimer) this.remember([run]);
    return run;
  }

  async listAttempts(runId: string): Promise<AttemptRecord[]> {
    const kept = this.finalAttempts.get(runId);
    if (kept) return kept;
    const attempts = await this.ctx.store.listAttempts(runId);
    if (this.finalRuns.has(runId) && attempts.every((a) => a.status === 'ended')) {
      this.finalAttempts.set(runId, attempts);
    }
    return attempts;
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

  /** Stops the shared poll. */
  close(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.listeners.clear();
    this.clearCache();
  }

  /**
   * One poll: the runs that changed since the last one, from each status partition of the byStatus index
   * (its sort key is `<updatedAt>#<runId>`), looking `POLL_OVERLAP_MS` further back and dropping what was
   * reported already. The first poll only sets the watermark. Then `afterPoll` (the worker counts).
   */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const first = this.watermark === '';
      const since = first
        ? new Date(this.ctx.now().getTime() - POLL_OVERLAP_MS).toISOString()
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
      await this.options.afterPoll();
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
      const out = await this.ctx.clients.ddb.send(
        new QueryCommand({
          TableName: this.ctx.resources.runsTable,
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
