/**
 * The engine's pump: drains the job queues (accepting each message as a run) and the durable launch queue
 * (launching attempts), one lifecycle step per transaction. A launch queued by a step is launched straight
 * after that step commits. A launch that finds its job at the concurrency cap waits in the job's FIFO
 * (`slots.ts`, its message kept received and hidden); each released slot wakes exactly one waiter, so a
 * backlog costs the same per run however long it is.
 */
import { parseDuration } from '../../core/duration.js';
import type { TriggerPayload } from '../../core/lifecycle/trigger.js';
import type { Json } from '../../core/model/common.js';
import type { Job } from '../../core/model/job.js';
import { acceptTrigger, launchAttempt } from '../lifecycle.js';
import type { LaunchMessage } from '../ports.js';
import type { EngineContext } from './context.js';
import { queueNameOf } from './direct.js';
import { crashPoint } from './faults.js';
import { jobQueueName, LAUNCH_QUEUE, type QueueMessage } from './queue.js';
import { SLOT_RECHECK_MS, SLOT_WAIT_VISIBILITY_MS, SlotWaiters } from './slots.js';

/** How long a received launch stays hidden; a crashed engine's launches come back at once on restart. */
export const LAUNCH_VISIBILITY_MS = 60_000;

export class Pump {
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeScheduled = false;
  private draining = false;
  private drainAgain = false;
  /** Launches queued (already received) by the step in progress. */
  private claimed: QueueMessage[] = [];
  /** Launches queued (already received) by committed steps, not launched yet. */
  private ready: QueueMessage[] = [];
  /** Launches waiting for a concurrency slot, one FIFO per job. */
  readonly waiters = new SlotWaiters();
  /** Slots released by the step in progress, per job: as many waiters wake when it commits. */
  private readonly freed = new Map<string, number>();
  /** Message ids of waiters woken for a freed slot and not tried yet. */
  private readonly woken = new Set<string>();
  private recheckTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: EngineContext) {}

  /** The store's slot-release hook (inside the step's transaction). */
  slotReleased(job: string): void {
    this.freed.set(job, (this.freed.get(job) ?? 0) + 1);
  }

  /** The launch queue's claim hook: a launch due now, received by the step that queued it. */
  onClaimed(m: QueueMessage): void {
    this.claimed.push(m);
  }

  /** After each step: launches claimed by a committed step become ready; a rolled-back step's show again. */
  afterStep(committed: boolean): void {
    if (committed) this.ready.push(...this.claimed);
    // Rolled back, or committed by a partial commit before the error: either way show it again.
    else for (const m of this.claimed) this.ctx.queues.changeVisibility(m.receiptHandle, 0);
    this.claimed = [];
    if (this.freed.size === 0) return;
    // A rolled-back step released nothing.
    if (committed) for (const [job, n] of this.freed) this.wakeWaiters(job, n);
    this.freed.clear();
  }

  /** Moves up to `n` of the job's waiting launches, oldest first, to the launches to try now. */
  private wakeWaiters(job: string, n: number): void {
    const woken = this.waiters.take(job, n);
    if (woken.length === 0) return;
    for (const m of woken) this.woken.add(m.messageId);
    this.ready.push(...woken);
    this.wake();
  }

  /** Schedules a drain of the launch queue and the job queues. */
  wake(): void {
    if (this.ctx.stopping()) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    // setImmediate, not setTimeout(0): Node rounds a 0 ms timer up to 1 ms, on every trigger.
    setImmediate(() => {
      this.wakeScheduled = false;
      void this.drain();
    });
  }

  stop(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.recheckTimer) clearTimeout(this.recheckTimer);
  }

  /** Launches what committed steps queued for now, in order. True when there was any. */
  private async launchReady(): Promise<boolean> {
    let any = false;
    for (let m = this.ready.shift(); m && !this.ctx.stopping(); m = this.ready.shift()) {
      any = true;
      await this.processLaunch(m);
    }
    return any;
  }

  private async drain(): Promise<void> {
    const ctx = this.ctx;
    if (this.draining || ctx.stopping()) return;
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        let worked = true;
        while (worked && !ctx.stopping()) {
          worked = false;
          for (const job of ctx.jobs()) {
            const q = job.triggers.find((t) => t.kind === 'queue');
            if (!q || q.mode === 'service') continue; // service-mode queues are read by their workers
            const messages = ctx.queues.receive(jobQueueName(job.name), {
              max: q.batchSize,
              visibilityMs: parseDuration(q.visibilityTimeout),
              maxReceiveCount: q.maxReceiveCount,
              fifo: q.fifo,
            });
            if (messages.length > 0) {
              worked = true;
              crashPoint('after-receive');
            }
            for (const m of messages) {
              await this.acceptMessage(job, m);
              await this.launchReady();
            }
          }
          if (await this.launchReady()) worked = true;
          const launches = ctx.queues.receive(LAUNCH_QUEUE, { max: 10, visibilityMs: LAUNCH_VISIBILITY_MS });
          if (launches.length > 0) worked = true;
          for (const m of launches) await this.processLaunch(m);
        }
      } while (this.drainAgain && !ctx.stopping());
    } catch (error) {
      ctx.log(`✖ engine: ${(error as Error).stack ?? error}`);
    } finally {
      this.draining = false;
      this.armWake();
    }
  }

  private armWake(): void {
    const ctx = this.ctx;
    if (ctx.stopping()) return;
    const times = [ctx.queues.nextVisibleAt(LAUNCH_QUEUE)];
    for (const job of ctx.jobs())
      if (job.triggers.some((t) => t.kind === 'queue' && t.mode !== 'service'))
        times.push(ctx.queues.nextVisibleAt(jobQueueName(job.name)));
    const next = Math.min(...times.filter((t): t is number => t !== undefined));
    if (!Number.isFinite(next)) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(
      () => void this.drain(),
      Math.min(2_147_483_647, Math.max(0, next - Date.now())),
    );
  }

  private async acceptMessage(job: Job, m: QueueMessage): Promise<void> {
    let parsed: Json | undefined;
    try {
      parsed = JSON.parse(m.body) as Json;
    } catch {
      parsed = undefined;
    }
    const trigger: TriggerPayload = {
      kind: 'queue',
      queue: queueNameOf(job) ?? job.name,
      messageId: m.messageId,
      body: m.body,
      ...(parsed !== undefined ? { json: parsed } : {}),
      receiveCount: m.receiveCount,
      ...(m.groupId ? { messageGroupId: m.groupId } : {}),
    };
    try {
      await this.ctx.tx.run(async () => {
        await acceptTrigger(this.ctx.deps, job, trigger);
        this.ctx.queues.delete(m.receiptHandle);
      });
      crashPoint('after-accept');
    } catch (error) {
      // Not accepted: the message comes back after its visibility timeout (and dead-letters after max receives).
      this.ctx.log(`✖ ${job.name}: message ${m.messageId} not accepted: ${(error as Error).message}`);
    }
  }

  private async processLaunch(m: QueueMessage): Promise<void> {
    const ctx = this.ctx;
    const msg = JSON.parse(m.body) as LaunchMessage;
    const job = ctx.job(msg.job);
    const wasWaiting = this.woken.delete(m.messageId);
    await ctx.tx.run(async () => {
      if (!job) {
        // The job file is gone or broken: keep the launch (no trigger is ever dropped) and look again later.
        ctx.queues.changeVisibility(m.receiptHandle, LAUNCH_VISIBILITY_MS);
        return;
      }
      const outcome = await launchAttempt(ctx.deps, job, msg.runId, msg.attempt);
      if (outcome.status === 'later' && outcome.slot) return this.waitForSlot(m, job, wasWaiting);
      this.waiters.remove(job.name, m.messageId);
      if (outcome.status === 'later') ctx.queues.changeVisibility(m.receiptHandle, outcome.delayMs);
      else ctx.queues.delete(m.receiptHandle);
      // Woken for a slot it did not take (the run moved on): the slot goes to the next waiter.
      if (wasWaiting && outcome.status === 'stale') this.slotReleased(job.name);
    });
    crashPoint('after-launch');
  }

  /**
   * A launch at its job's concurrency cap: its message stays received, hidden (an engine that dies meanwhile
   * releases it on its next start), and it joins the job's line; a woken one that lost the race goes back to
   * the front.
   */
  private waitForSlot(m: QueueMessage, job: Job, front: boolean): void {
    this.ctx.queues.changeVisibility(m.receiptHandle, SLOT_WAIT_VISIBILITY_MS);
    if (front) this.waiters.putBack(job.name, m);
    else this.waiters.add(job.name, m);
    this.armRecheck();
  }

  /**
   * Safety net while launches wait: one waiter per job is tried every `SLOT_RECHECK_MS`, in case a slot
   * was freed where this engine could not see it (another process writing the database).
   */
  private armRecheck(): void {
    if (this.recheckTimer || this.ctx.stopping()) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      for (const job of this.waiters.jobs()) this.wakeWaiters(job, 1);
      if (this.waiters.jobs().length > 0) this.armRecheck();
    }, SLOT_RECHECK_MS);
    this.recheckTimer.unref();
  }
}
