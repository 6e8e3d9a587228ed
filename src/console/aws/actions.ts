/**
 * The console's actions, through the same paths as the CLI: run-now, replay and redrive are messages on the
 * launch queue, cancel is ECS StopTask (a run that has no task yet moves to `cancelled` in the table).
 */
import { randomUUID } from 'node:crypto';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { BERTH_STOP_REASONS } from '../../core/lifecycle/classify.js';
import {
  idempotencyKey,
  redriveIdempotencyKey,
  replayIdempotencyKey,
  runIdFor,
} from '../../core/lifecycle/idempotency.js';
import { isFinalStatus } from '../../core/lifecycle/states.js';
import type { Json } from '../../core/model/common.js';
import type { ActionResult, InvokeOptions } from '../../dashboard/source.js';
import type { DynamoRunStore } from '../../runtime/aws/dynamoRunStore.js';
import { type InvokeMessage, invokeTrigger } from '../../runtime/aws/messages.js';
import { sendLaunchMessage } from '../../runtime/aws/stage.js';
import { cancelledBeforeRun } from '../../runtime/lifecycle.js';
import type { RunRecord } from '../../runtime/ports.js';
import { requireJob, type SourceContext } from './context.js';
import { SCAN_RUNS } from './runs.js';

export class ConsoleActions {
  private readonly store: DynamoRunStore;

  constructor(private readonly ctx: SourceContext) {
    this.store = ctx.store;
  }

  private async send(message: Parameters<typeof sendLaunchMessage>[2]): Promise<void> {
    await sendLaunchMessage(this.ctx.clients.sqs, this.ctx.resources.launchQueueUrl, message);
  }

  async invoke(job: string, payload?: unknown, options?: InvokeOptions): Promise<ActionResult> {
    requireJob(this.ctx, job);
    if (options?.s3) {
      throw Object.assign(
        new Error(
          `Run now with an object is for berth dev — on stage ${this.ctx.stage}, put the object in the bucket (aws s3 cp) and the job's rule starts the run`,
        ),
        { name: 'ManualS3Error' },
      );
    }
    const message: InvokeMessage = {
      type: 'invoke',
      job,
      requestId: randomUUID(),
      ...(payload !== undefined ? { payload: payload as Json } : {}),
    };
    await this.send(message);
    return { status: 'queued', runId: runIdFor(idempotencyKey(job, invokeTrigger(message))) };
  }

  private async requireRun(runId: string): Promise<RunRecord> {
    const run = await this.store.getRun(runId);
    if (!run) throw new Error(`there is no run ${runId} in stage ${this.ctx.stage}`);
    return run;
  }

  async replay(runId: string): Promise<ActionResult> {
    const run = await this.requireRun(runId);
    requireJob(this.ctx, run.job);
    const requestId = randomUUID();
    await this.send({ type: 'replay', job: run.job, runId: run.runId, requestId });
    return { status: 'queued', runId: runIdFor(replayIdempotencyKey(run.job, run.runId, requestId)) };
  }

  async replayFailed(job: string): Promise<ActionResult[]> {
    requireJob(this.ctx, job);
    const runs = await this.store.listRuns({ job, limit: SCAN_RUNS });
    const replayed = new Set(runs.flatMap((r) => (r.replayOf ? [r.replayOf] : [])));
    const failed = runs.filter(
      (r) => (r.status === 'failed' || r.status === 'timed_out') && !replayed.has(r.runId),
    );
    const out: ActionResult[] = [];
    for (const r of failed) out.push(await this.replay(r.runId));
    return out;
  }

  async cancel(runId: string): Promise<boolean> {
    const run = await this.requireRun(runId);
    if (isFinalStatus(run.status)) return false;
    if (run.status === 'running' || run.status === 'launching') {
      const attempt = (await this.store.listAttempts(runId)).find((a) => a.attempt === run.attempt);
      if (attempt?.taskArn) {
        // The interceptor records the stop: a reason starting "berth: cancelled" classifies as cancelled.
        await this.ctx.clients.ecs.send(
          new StopTaskCommand({
            cluster: this.ctx.resources.cluster,
            task: attempt.taskArn,
            reason: `${BERTH_STOP_REASONS.cancel} from the console`,
          }),
        );
        return true;
      }
      if (run.status === 'launching')
        throw new Error(`run ${runId} is launching and has no task yet — cancel it again in a few seconds`);
    }
    const now = this.ctx.now().toISOString();
    // No task: the run ends here; the sweeper publishes its Cancelled event from the outbox mark.
    return this.store.transition(runId, ['queued', 'retrying'], cancelledBeforeRun(now));
  }

  async redrive(runId: string): Promise<ActionResult> {
    const run = await this.requireRun(runId);
    if (!run.deadLettered) {
      const by = /redriven as (r[0-9a-z]{20})/.exec(run.decision ?? '')?.[1];
      if (by) return { status: 'duplicate', runId: by };
      throw new Error(
        `${run.runId} is ${run.status}, not dead-lettered — only runs that failed for good can be redriven`,
      );
    }
    await this.send({ type: 'redrive', job: run.job, runId: run.runId, requestId: randomUUID() });
    return { status: 'queued', runId: runIdFor(redriveIdempotencyKey(run.job, run.runId)) };
  }
}
