/**
 * Paces RunTask calls under Fargate's quotas instead of finding them by being throttled. ECS applies two token
 * buckets per account and Region (docs: "AWS Fargate throttling quotas"): the RunTask API itself, 20 calls per
 * second burst and sustained, and the task launch bucket, 100 tasks burst refilled at 20 per second. berth
 * starts one task per call, so every call takes one token from each.
 *
 * Each launcher instance paces itself at its share of the account's buckets: 1/N of each, N being how many
 * launcher instances the stack can run at once (the event source mappings' `MaximumConcurrency` summed, which
 * the compiler passes as `BERTH_LAUNCH_CONCURRENCY`). A call that would wait longer than `maxWaitMs` is not
 * made: the launch goes back to the queue for that long. When ECS throttles anyway (other callers share the
 * quota), the instance empties its buckets, so its next calls come at the refill rate, not in a burst.
 */
import type { LaunchRequest, LaunchResult, TaskLauncher } from '../ports.js';

/** Fargate quotas per account and Region (ECS developer guide, "AWS Fargate throttling quotas"). */
export const FARGATE_QUOTAS = {
  /** RunTask API: 20 calls per second, burst and sustained. */
  runTaskBurst: 20,
  runTaskPerSecond: 20,
  /** Task launches (On-Demand; Spot has its own bucket of the same size): 100 burst, 20 per second. */
  taskBurst: 100,
  taskPerSecond: 20,
} as const;

/** A token bucket whose tokens may be reserved ahead: a negative balance is a queue of waiting callers. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly capacity: number,
    readonly perSecond: number,
    private readonly now: () => number,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  private refill(): void {
    const at = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((at - this.last) / 1000) * this.perSecond);
    this.last = at;
  }

  /** Takes one token, now or ahead; returns how many ms until it is really there. */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000);
  }

  /** Gives back a reservation that will not be used. */
  cancel(): void {
    this.tokens = Math.min(this.capacity, this.tokens + 1);
  }

  /** Spends everything there is: the next token comes at the refill rate. */
  drain(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }
}

export interface PacerOptions {
  /** How many launcher instances share the account's quota. @default 1 */
  instances?: number;
  /** A call that would wait longer goes back to the queue instead. @default 10 s */
  maxWaitMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class LaunchPacer {
  readonly api: TokenBucket;
  readonly tasks: TokenBucket;
  private readonly maxWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: PacerOptions = {}) {
    const n = Math.max(1, Math.floor(options.instances ?? 1));
    const now = options.now ?? (() => performance.now());
    // At least one token of burst, or an instance could never call.
    this.api = new TokenBucket(
      Math.max(1, FARGATE_QUOTAS.runTaskBurst / n),
      FARGATE_QUOTAS.runTaskPerSecond / n,
      now,
    );
    this.tasks = new TokenBucket(
      Math.max(1, FARGATE_QUOTAS.taskBurst / n),
      FARGATE_QUOTAS.taskPerSecond / n,
      now,
    );
    this.maxWaitMs = options.maxWaitMs ?? 10_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Waits for a RunTask call's tokens; `retryAfterMs` when that wait would be longer than allowed. */
  async acquire(): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
    const wait = Math.max(this.api.reserve(), this.tasks.reserve());
    if (wait > this.maxWaitMs) {
      this.api.cancel();
      this.tasks.cancel();
      return { ok: false, retryAfterMs: wait };
    }
    if (wait > 0) await this.sleep(wait);
    return { ok: true };
  }

  /** ECS throttled a call all the same: someone else spends the account's tokens too. */
  throttled(): void {
    this.api.drain();
    this.tasks.drain();
  }
}

/** A `TaskLauncher` that takes its tokens from a `LaunchPacer` before every launch. */
export class PacedTaskLauncher implements TaskLauncher {
  readonly fitsInline?: TaskLauncher['fitsInline'];

  constructor(
    private readonly inner: TaskLauncher,
    readonly pacer: LaunchPacer,
  ) {
    if (inner.fitsInline) this.fitsInline = inner.fitsInline.bind(inner);
  }

  async launch(request: LaunchRequest): Promise<LaunchResult> {
    const slot = await this.pacer.acquire();
    if (!slot.ok) {
      return {
        ok: false,
        kind: 'throttled',
        reason: `paced under the Fargate RunTask quota: next call in ${slot.retryAfterMs} ms`,
        retryAfterMs: slot.retryAfterMs,
      };
    }
    const result = await this.inner.launch(request);
    if (!result.ok && result.kind === 'throttled' && /throttl|rate exceeded/i.test(result.reason))
      this.pacer.throttled();
    return result;
  }
}
