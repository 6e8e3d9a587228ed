/**
 * The run store on DynamoDB: one table, single-table design (README section `aws-runtime`).
 *
 * | item            | pk               | sk                | notes                                   |
 * |-----------------|------------------|-------------------|-----------------------------------------|
 * | run             | `RUN#<runId>`    | `RUN`             | byJob + byStatus GSI keys, ttl when final |
 *
 * A final run also carries `eventPending` and the sparse byEventPending keys until its final event is out.
 * | attempt         | `RUN#<runId>`    | `ATTEMPT#0001`    | ttl                                     |
 * | slot holder     | `SLOT#<job>`     | `RUN#<runId>`     | one per run holding a concurrency slot  |
 * | slot counter    | `SLOT#<job>`     | `COUNT`           | `held`, changed in the same transaction |
 * | task version    | `TASK#<taskArn>` | `VERSION`         | highest ECS `detail.version`, ttl 2 days |
 * | retry event     | `RUN#<runId>`    | `EVENT#RETRYING#0001` | outbox entry of a `Retrying` event; byEventPending keys until it is out |
 *
 * Every state change is a conditional write; the run id is derived from the trigger's idempotency key, so
 * `attribute_not_exists(pk)` on the run item drops duplicate triggers.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  FINAL_RUN_STATUSES,
  isFinalStatus,
  RUN_STATUSES,
  type RunStatus,
} from '../../core/lifecycle/states.js';
import type { AttemptRecord, RunFilter, RunRecord, TransitionOptions } from '../ports.js';
import {
  type AwsRunStore,
  type PendingRetryEvent,
  pendingRetryEvent,
  type SlotHolder,
} from './awsRunStore.js';
import { RUNS_TABLE } from './tableSchema.js';

const DAY_S = 86_400;
/** Attempts outlive their run's TTL by the longest job timeout, so a run never loses its attempts first. */
const ATTEMPT_EXTRA_DAYS = 14;
const TASK_VERSION_TTL_DAYS = 2;

const RUN_FIELDS = [
  'runId',
  'job',
  'status',
  'attempt',
  'maxAttempts',
  'trigger',
  'idempotencyKey',
  'createdAt',
  'updatedAt',
  'endedAt',
  'outcome',
  'exitCode',
  'stopCode',
  'reason',
  'decision',
  'nextAttemptAt',
  'taskArn',
  'deadLettered',
  'replayOf',
] as const satisfies readonly (keyof RunRecord)[];

const ATTEMPT_FIELDS = [
  'runId',
  'attempt',
  'status',
  'taskArn',
  'capacity',
  'launchedAt',
  'startedAt',
  'stoppedAt',
  'durationMs',
  'outcome',
  'exitCode',
  'stopCode',
  'reason',
  'costUsd',
] as const satisfies readonly (keyof AttemptRecord)[];

export const runKey = (runId: string) => ({ [RUNS_TABLE.pk]: `RUN#${runId}`, [RUNS_TABLE.sk]: 'RUN' });
export const attemptKey = (runId: string, attempt: number) => ({
  [RUNS_TABLE.pk]: `RUN#${runId}`,
  [RUNS_TABLE.sk]: `ATTEMPT#${String(attempt).padStart(4, '0')}`,
});
const slotKey = (job: string, runId: string) => ({
  [RUNS_TABLE.pk]: `SLOT#${job}`,
  [RUNS_TABLE.sk]: `RUN#${runId}`,
});
const slotCounterKey = (job: string) => ({ [RUNS_TABLE.pk]: `SLOT#${job}`, [RUNS_TABLE.sk]: 'COUNT' });
const taskKey = (taskArn: string) => ({ [RUNS_TABLE.pk]: `TASK#${taskArn}`, [RUNS_TABLE.sk]: 'VERSION' });
export const retryEventKey = (runId: string, attempt: number) => ({
  [RUNS_TABLE.pk]: `RUN#${runId}`,
  [RUNS_TABLE.sk]: `EVENT#RETRYING#${String(attempt).padStart(4, '0')}`,
});
/** The byEventPending partition of unpublished `Retrying` events (final runs use `PENDING#<status>`). */
const RETRY_PENDING_PK = 'PENDING#retrying';

const RETRY_EVENT_FIELDS = [
  'runId',
  'attempt',
  'outcome',
  'exitCode',
  'stopCode',
  'reason',
  'decision',
  'nextAttemptAt',
  'updatedAt',
] as const satisfies readonly (keyof PendingRetryEvent)[];

const byJobKeys = (run: Pick<RunRecord, 'job' | 'createdAt' | 'runId'>) => ({
  [RUNS_TABLE.gsiByJob.pk]: `JOB#${run.job}`,
  [RUNS_TABLE.gsiByJob.sk]: `${run.createdAt}#${run.runId}`,
});
const byStatusKeys = (status: RunStatus, updatedAt: string, runId: string) => ({
  [RUNS_TABLE.gsiByStatus.pk]: `STATUS#${status}`,
  [RUNS_TABLE.gsiByStatus.sk]: `${updatedAt}#${runId}`,
});

function pick<T>(item: Record<string, unknown>, fields: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const f of fields) out[f] = item[f] ?? null;
  return out as T;
}

/** A runs-table item (base table or an index projecting all attributes) as a run record. */
export function toRun(item: Record<string, unknown>): RunRecord {
  const run = pick<RunRecord>(item, RUN_FIELDS);
  run.deadLettered = item.deadLettered === true;
  return run;
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException'
  );
}

function cancellationCodes(error: unknown): (string | undefined)[] | undefined {
  if (
    error instanceof TransactionCanceledException ||
    (error as { name?: string } | null)?.name === 'TransactionCanceledException'
  ) {
    return ((error as TransactionCanceledException).CancellationReasons ?? []).map((r) => r.Code);
  }
  return undefined;
}

/** Builds `SET a = :a, …` / `REMOVE …` for a patch, skipping undefined values. */
function updateExpression(
  patch: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  remove: string[] = [],
): { expression: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  let i = 0;
  for (const [key, value] of Object.entries({ ...patch, ...extra })) {
    if (value === undefined) continue;
    i++;
    names[`#f${i}`] = key;
    values[`:f${i}`] = value;
    sets.push(`#f${i} = :f${i}`);
  }
  const removes = remove.map((key) => {
    i++;
    names[`#f${i}`] = key;
    return `#f${i}`;
  });
  let expression = sets.length ? `SET ${sets.join(', ')}` : '';
  if (removes.length) expression += `${expression ? ' ' : ''}REMOVE ${removes.join(', ')}`;
  return { expression, names, values };
}

export interface DynamoRunStoreOptions {
  /** Days a finished run is kept. @default 90 */
  ttlDays?: number;
  now?: () => Date;
}

export class DynamoRunStore implements AwsRunStore {
  private readonly ttlDays: number;
  private readonly now: () => Date;

  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
    options: DynamoRunStoreOptions = {},
  ) {
    this.ttlDays = options.ttlDays ?? 90;
    this.now = options.now ?? (() => new Date());
  }

  private ttlFrom(iso: string | null, extraDays = 0): number {
    const base = iso ? Date.parse(iso) : this.now().getTime();
    return Math.floor(base / 1000) + (this.ttlDays + extraDays) * DAY_S;
  }

  async createRun(run: RunRecord): Promise<boolean> {
    return this.unlessConditionFails(() =>
      this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...runKey(run.runId),
            ...byJobKeys(run),
            ...byStatusKeys(run.status, run.updatedAt, run.runId),
            ...run,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': RUNS_TABLE.pk },
        }),
      ),
    );
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const out = await this.ddb.send(
      new GetCommand({ TableName: this.table, Key: runKey(runId), ConsistentRead: true }),
    );
    return out.Item ? toRun(out.Item) : undefined;
  }

  async transition(
    runId: string,
    from: readonly RunStatus[],
    patch: Partial<RunRecord> & { status: RunStatus },
    condition: TransitionOptions = {},
  ): Promise<boolean> {
    const updatedAt = patch.updatedAt ?? this.now().toISOString();
    const final = isFinalStatus(patch.status);
    const extra: Record<string, unknown> = {
      updatedAt,
      ...byStatusKeys(patch.status, updatedAt, runId),
      // Entering a final state opens the outbox: the publisher clears this once the final event is out.
      ...(final
        ? {
            eventPending: true,
            [RUNS_TABLE.gsiEventPending.pk]: `PENDING#${patch.status}`,
            [RUNS_TABLE.gsiEventPending.sk]: `${updatedAt}#${runId}`,
            [RUNS_TABLE.ttl]: this.ttlFrom(patch.endedAt ?? updatedAt),
          }
        : {}),
    };
    const { runId: _ignored, ...fields } = patch;
    const { expression, names, values } = updateExpression(fields, extra);
    const fromValues: Record<string, unknown> = {};
    from.forEach((status, i) => {
      fromValues[`:from${i}`] = status;
    });
    let conditionExpression = `attribute_exists(#pk) AND #status IN (${from.map((_, i) => `:from${i}`).join(', ')})`;
    if (condition.attempt !== undefined) {
      conditionExpression += ' AND #attempt = :condAttempt';
      fromValues[':condAttempt'] = condition.attempt;
    }
    const update = {
      TableName: this.table,
      Key: runKey(runId),
      UpdateExpression: expression,
      ConditionExpression: conditionExpression,
      ExpressionAttributeNames: {
        ...names,
        '#pk': RUNS_TABLE.pk,
        '#status': 'status',
        ...(condition.attempt !== undefined ? { '#attempt': 'attempt' } : {}),
      },
      ExpressionAttributeValues: { ...values, ...fromValues },
    };
    if (!condition.retryEvent)
      return this.unlessConditionFails(() => this.ddb.send(new UpdateCommand(update)));
    // The retry and its event's outbox entry in one transaction: neither exists without the other.
    const entry = pendingRetryEvent(runId, patch, condition, updatedAt);
    try {
      await this.ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: update },
            {
              Put: {
                TableName: this.table,
                Item: {
                  ...retryEventKey(runId, entry.attempt),
                  ...entry,
                  [RUNS_TABLE.gsiEventPending.pk]: RETRY_PENDING_PK,
                  [RUNS_TABLE.gsiEventPending.sk]: `${updatedAt}#${runId}`,
                  [RUNS_TABLE.ttl]: this.ttlFrom(updatedAt, ATTEMPT_EXTRA_DAYS),
                },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (cancellationCodes(error)?.[0] === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }

  async createAttempt(attempt: AttemptRecord): Promise<boolean> {
    return this.unlessConditionFails(() =>
      this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...attemptKey(attempt.runId, attempt.attempt),
            ...attempt,
            [RUNS_TABLE.ttl]: this.ttlFrom(attempt.launchedAt, ATTEMPT_EXTRA_DAYS),
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': RUNS_TABLE.pk },
        }),
      ),
    );
  }

  async updateAttempt(
    runId: string,
    attempt: number,
    patch: Partial<AttemptRecord>,
    options: { onlyIfNotEnded?: boolean } = {},
  ): Promise<boolean> {
    const { runId: _r, attempt: _a, ...fields } = patch;
    const { expression, names, values } = updateExpression(fields);
    if (!expression) return true;
    const condition = options.onlyIfNotEnded
      ? 'attribute_exists(#pk) AND #astatus <> :ended'
      : 'attribute_exists(#pk)';
    return this.unlessConditionFails(() =>
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: attemptKey(runId, attempt),
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: {
            ...names,
            '#pk': RUNS_TABLE.pk,
            ...(options.onlyIfNotEnded ? { '#astatus': 'status' } : {}),
          },
          ExpressionAttributeValues: { ...values, ...(options.onlyIfNotEnded ? { ':ended': 'ended' } : {}) },
        }),
      ),
    );
  }

  async listAttempts(runId: string): Promise<AttemptRecord[]> {
    const items = await this.itemsWithPrefix(`RUN#${runId}`, 'ATTEMPT#', true);
    return items.map((item) => pick<AttemptRecord>(item, ATTEMPT_FIELDS));
  }

  /**
   * By job: the byJob index, newest first. By status: the byStatus index. Neither: every status partition,
   * merged newest first. `since` compares with `createdAt`.
   */
  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    const limit = filter.limit ?? 50;
    let runs: RunRecord[];
    if (filter.job) {
      const items = await this.queryAll(
        {
          TableName: this.table,
          IndexName: RUNS_TABLE.gsiByJob.name,
          KeyConditionExpression: filter.since ? '#pk = :pk AND #sk >= :since' : '#pk = :pk',
          ExpressionAttributeNames: {
            '#pk': RUNS_TABLE.gsiByJob.pk,
            ...(filter.since ? { '#sk': RUNS_TABLE.gsiByJob.sk } : {}),
          },
          ExpressionAttributeValues: {
            ':pk': `JOB#${filter.job}`,
            ...(filter.since ? { ':since': filter.since } : {}),
          },
          ScanIndexForward: false,
          ...(filter.status ? {} : { Limit: limit }),
        },
        filter.status ? undefined : limit,
      );
      runs = items.map(toRun);
      if (filter.status) runs = runs.filter((r) => r.status === filter.status);
    } else {
      const statuses = filter.status ? [filter.status] : RUN_STATUSES;
      const lists = await Promise.all(statuses.map((s) => this.listByStatus(s, { limit })));
      runs = lists.flat();
      if (filter.since) runs = runs.filter((r) => r.createdAt >= (filter.since as string));
    }
    runs.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    return runs.slice(0, limit);
  }

  /** Runs in one status, newest change first; `before` bounds the last change (sweeper queries). */
  async listByStatus(
    status: RunStatus,
    options: { before?: Date; limit?: number } = {},
  ): Promise<RunRecord[]> {
    const items = await this.queryAll(
      {
        TableName: this.table,
        IndexName: RUNS_TABLE.gsiByStatus.name,
        KeyConditionExpression: options.before ? '#pk = :pk AND #sk < :before' : '#pk = :pk',
        ExpressionAttributeNames: {
          '#pk': RUNS_TABLE.gsiByStatus.pk,
          ...(options.before ? { '#sk': RUNS_TABLE.gsiByStatus.sk } : {}),
        },
        ExpressionAttributeValues: {
          ':pk': `STATUS#${status}`,
          ...(options.before ? { ':before': options.before.toISOString() } : {}),
        },
        ScanIndexForward: false,
      },
      options.limit,
    );
    return items.map(toRun);
  }

  async countActive(job: string): Promise<number> {
    // Active runs are few and recent: read the job's newest runs and count those holding or awaiting capacity.
    const items = await this.queryAll(
      {
        TableName: this.table,
        IndexName: RUNS_TABLE.gsiByJob.name,
        KeyConditionExpression: '#pk = :pk',
        FilterExpression: '#status IN (:a, :b)',
        ExpressionAttributeNames: { '#pk': RUNS_TABLE.gsiByJob.pk, '#status': 'status' },
        ExpressionAttributeValues: { ':pk': `JOB#${job}`, ':a': 'launching', ':b': 'running' },
        ScanIndexForward: false,
      },
      undefined,
      1000,
    );
    return items.length;
  }

  async acquireSlot(job: string, runId: string, max: number): Promise<boolean> {
    try {
      await this.ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { ...slotKey(job, runId), job, runId, acquiredAt: this.now().toISOString() },
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': RUNS_TABLE.pk },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: slotCounterKey(job),
                UpdateExpression: 'SET #held = if_not_exists(#held, :zero) + :one',
                ConditionExpression: 'attribute_not_exists(#held) OR #held < :max',
                ExpressionAttributeNames: { '#held': 'held' },
                ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':max': max },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      const codes = cancellationCodes(error);
      if (!codes) throw error;
      // The first item failing means this run already holds its slot: acquiring is idempotent per run.
      if (codes[0] === 'ConditionalCheckFailed') return true;
      if (codes[1] === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }

  async releaseSlot(job: string, runId: string): Promise<void> {
    const held = await this.ddb.send(
      new GetCommand({ TableName: this.table, Key: slotKey(job, runId), ConsistentRead: true }),
    );
    if (!held.Item) return;
    try {
      await this.ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.table,
                Key: slotKey(job, runId),
                ConditionExpression: 'attribute_exists(#pk)',
                ExpressionAttributeNames: { '#pk': RUNS_TABLE.pk },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: slotCounterKey(job),
                UpdateExpression: 'SET #held = #held - :one',
                ConditionExpression: '#held > :zero',
                ExpressionAttributeNames: { '#held': 'held' },
                ExpressionAttributeValues: { ':zero': 0, ':one': 1 },
              },
            },
          ],
        }),
      );
    } catch (error) {
      // Someone else released it between the read and the write: nothing left to do.
      if (cancellationCodes(error)) return;
      throw error;
    }
  }

  async listSlots(job: string): Promise<SlotHolder[]> {
    const items = await this.itemsWithPrefix(`SLOT#${job}`, 'RUN#');
    return items.map((i) => ({ job, runId: String(i.runId), acquiredAt: String(i.acquiredAt) }));
  }

  async recordTaskVersion(taskArn: string, version: number): Promise<boolean> {
    return this.unlessConditionFails(() =>
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: taskKey(taskArn),
          UpdateExpression: 'SET #v = :v, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#v) OR #v <= :v',
          ExpressionAttributeNames: { '#v': 'version', '#ttl': RUNS_TABLE.ttl },
          ExpressionAttributeValues: {
            ':v': version,
            ':ttl': Math.floor(this.now().getTime() / 1000) + TASK_VERSION_TTL_DAYS * DAY_S,
          },
        }),
      ),
    );
  }

  async markEventPublished(runId: string): Promise<void> {
    await this.ddb
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: runKey(runId),
          UpdateExpression: 'REMOVE #p, #gpk, #gsk',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: {
            '#p': 'eventPending',
            '#gpk': RUNS_TABLE.gsiEventPending.pk,
            '#gsk': RUNS_TABLE.gsiEventPending.sk,
            '#pk': RUNS_TABLE.pk,
          },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
  }

  /**
   * Oldest first, from the sparse byEventPending index: it holds only runs whose final event is unpublished,
   * so no pending run is out of reach however many final runs came after it. (A run that went final before
   * the index existed carries no index keys: it is republished only if it is written again.)
   */
  async listUnpublishedFinalRuns(before: Date, limit = 100): Promise<RunRecord[]> {
    const out: RunRecord[] = [];
    for (const status of FINAL_RUN_STATUSES) {
      if (out.length >= limit) break;
      const items = await this.queryEventPending(`PENDING#${status}`, before, limit - out.length);
      out.push(...items.map(toRun));
    }
    return out;
  }

  async markRetryEventPublished(runId: string, attempt: number): Promise<void> {
    // Leaves the byEventPending index (the item itself expires with its TTL); never creates a bare item.
    await this.ddb
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: retryEventKey(runId, attempt),
          UpdateExpression: 'REMOVE #gpk, #gsk SET #published = :true',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: {
            '#gpk': RUNS_TABLE.gsiEventPending.pk,
            '#gsk': RUNS_TABLE.gsiEventPending.sk,
            '#published': 'published',
            '#pk': RUNS_TABLE.pk,
          },
          ExpressionAttributeValues: { ':true': true },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
  }

  async listUnpublishedRetryEvents(before: Date, limit = 100): Promise<PendingRetryEvent[]> {
    const items = await this.queryEventPending(RETRY_PENDING_PK, before, limit);
    return items.map((item) => pick<PendingRetryEvent>(item, RETRY_EVENT_FIELDS));
  }

  /** Runs a conditional write: true when it was applied, false when its condition did not hold. */
  private async unlessConditionFails(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Every item of partition `pk` whose sort key starts with `prefix`. */
  private itemsWithPrefix(
    pk: string,
    prefix: string,
    consistentRead = false,
  ): Promise<Record<string, unknown>[]> {
    return this.queryAll({
      TableName: this.table,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': RUNS_TABLE.pk, '#sk': RUNS_TABLE.sk },
      ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
      ...(consistentRead ? { ConsistentRead: true } : {}),
    });
  }

  /** Outbox entries of one byEventPending partition opened before `before`, oldest first. */
  private queryEventPending(pk: string, before: Date, limit: number): Promise<Record<string, unknown>[]> {
    return this.queryAll(
      {
        TableName: this.table,
        IndexName: RUNS_TABLE.gsiEventPending.name,
        KeyConditionExpression: '#pk = :pk AND #sk < :before',
        ExpressionAttributeNames: {
          '#pk': RUNS_TABLE.gsiEventPending.pk,
          '#sk': RUNS_TABLE.gsiEventPending.sk,
        },
        ExpressionAttributeValues: { ':pk': pk, ':before': before.toISOString() },
        ScanIndexForward: true,
      },
      limit,
    );
  }

  /** Pages through a query until `limit` items are found or `maxScanned` items were read. */
  private async queryAll(
    input: QueryCommandInput,
    limit?: number,
    maxScanned = Number.POSITIVE_INFINITY,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    let scanned = 0;
    do {
      const page = await this.ddb.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
      items.push(...((page.Items ?? []) as Record<string, unknown>[]));
      scanned += page.ScannedCount ?? page.Items?.length ?? 0;
      start = page.LastEvaluatedKey as Record<string, unknown> | undefined;
    } while (start && (limit === undefined || items.length < limit) && scanned < maxScanned);
    return limit === undefined ? items : items.slice(0, limit);
  }
}
