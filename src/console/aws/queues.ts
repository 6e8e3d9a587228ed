/**
 * The console's queues and workers: a job's queue depths and dead letters from SQS (read at most every
 * `QUEUE_STATS_TTL_MS` per job), moving its dead letters back, and the worker counts of service-mode jobs
 * from ECS (read by the shared poll).
 */
import { DescribeServicesCommand, ListServicesCommand } from '@aws-sdk/client-ecs';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { serviceOptionsOf } from '../../core/scaling/backlog.js';
import type { QueueStats, WorkerPoolStatus } from '../../dashboard/source.js';
import { jobQueueRef, moveDeadLetters } from '../../runtime/aws/stage.js';
import { requireJob, type SourceContext } from './context.js';

/** Queue counts are read at most this often per job (the jobs page asks on every run change). */
export const QUEUE_STATS_TTL_MS = 10_000;
/** Points kept per worker chart. */
const MAX_WORKER_HISTORY = 500;

export class ConsoleQueues {
  private readonly queueUrls = new Map<string, string | null>();
  private readonly queueCache = new Map<string, { at: number; stats: Promise<QueueStats> }>();
  private readonly workers = new Map<string, WorkerPoolStatus>();

  constructor(private readonly ctx: SourceContext) {}

  private async queueUrl(name: string, owner?: string): Promise<string | null> {
    const key = `${owner ?? ''}/${name}`;
    if (this.queueUrls.has(key)) return this.queueUrls.get(key) ?? null;
    let url: string | null = null;
    try {
      const out = await this.ctx.clients.sqs.send(
        new GetQueueUrlCommand({ QueueName: name, ...(owner ? { QueueOwnerAWSAccountId: owner } : {}) }),
      );
      url = out.QueueUrl ?? null;
    } catch (error) {
      if (!/NonExistentQueue|QueueDoesNotExist/.test((error as Error).name)) throw error;
    }
    this.queueUrls.set(key, url);
    return url;
  }

  async queueStats(job: string): Promise<QueueStats> {
    const cached = this.queueCache.get(job);
    const at = Date.now();
    if (cached && at - cached.at < QUEUE_STATS_TTL_MS) return cached.stats;
    const stats = this.readQueueStats(job);
    this.queueCache.set(job, { at, stats });
    stats.catch(() => this.queueCache.delete(job));
    return stats;
  }

  private async readQueueStats(job: string): Promise<QueueStats> {
    const zero = { visible: 0, inFlight: 0, delayed: 0, deadLetter: 0 };
    const j = this.ctx.jobsByName.get(job);
    const ref = j ? jobQueueRef(this.ctx.service, this.ctx.stage, j) : undefined;
    if (!ref) return zero;
    const url = await this.queueUrl(ref.name, ref.owner);
    if (!url) return zero;
    const out = await this.ctx.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
          'RedrivePolicy',
        ],
      }),
    );
    const a = out.Attributes ?? {};
    let deadLetter = 0;
    const policy = a.RedrivePolicy;
    const dlqArn = policy
      ? (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn
      : undefined;
    if (dlqArn) {
      const parts = dlqArn.split(':');
      const dlqUrl = await this.queueUrl(parts[5] ?? '', parts[4] || undefined);
      if (dlqUrl) {
        const d = await this.ctx.clients.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: dlqUrl,
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        );
        deadLetter = Number(d.Attributes?.ApproximateNumberOfMessages ?? 0);
      }
    }
    return {
      visible: Number(a.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      deadLetter,
    };
  }

  async redriveQueue(job: string): Promise<number> {
    const ref = jobQueueRef(this.ctx.service, this.ctx.stage, requireJob(this.ctx, job));
    if (!ref) throw new Error(`job ${job} has no queue trigger: it has no dead-letter queue`);
    try {
      return await moveDeadLetters(this.ctx.clients.sqs, ref, { waitSeconds: 0 });
    } finally {
      // The page reads the queue again right after: not the cached count from before the move.
      this.queueCache.delete(job);
    }
  }

  workerPools(): WorkerPoolStatus[] {
    return [...this.workers.values()];
  }

  /** The worker counts of service-mode jobs (ECS ListServices + DescribeServices), a chart point per change. */
  async pollWorkers(): Promise<void> {
    const serviceJobs = [...this.ctx.jobsByName.values()].filter((j) =>
      j.triggers.some((t) => t.kind === 'queue' && t.mode === 'service'),
    );
    if (serviceJobs.length === 0) return;
    const cluster = this.ctx.resources.cluster;
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.ctx.clients.ecs.send(
        new ListServicesCommand({ cluster, ...(nextToken ? { nextToken } : {}) }),
      );
      arns.push(...(out.serviceArns ?? []));
      nextToken = out.nextToken;
    } while (nextToken);
    const at = this.ctx.now().toISOString();
    for (let i = 0; i < arns.length; i += 10) {
      const out = await this.ctx.clients.ecs.send(
        new DescribeServicesCommand({ cluster, services: arns.slice(i, i + 10), include: ['TAGS'] }),
      );
      for (const s of out.services ?? []) {
        const jobName = s.tags?.find((t) => t.key === 'berth:job')?.value;
        const job = serviceJobs.find((j) => j.name === jobName);
        const trigger = job?.triggers.find((t) => t.kind === 'queue');
        const options = trigger?.kind === 'queue' ? serviceOptionsOf(trigger) : undefined;
        if (!job || !options) continue;
        const prev = this.workers.get(job.name);
        const running = s.runningCount ?? 0;
        const desired = s.desiredCount ?? 0;
        const last = prev?.history.at(-1);
        const history = prev?.history ?? [];
        // A point when the count changed, as the local pools record it (visible: the queue when it did).
        if (!last || last.workers !== running) {
          const visible = (await this.queueStats(job.name)).visible;
          history.push({ at, workers: running, visible });
          if (history.length > MAX_WORKER_HISTORY) history.splice(0, history.length - MAX_WORKER_HISTORY);
        }
        this.workers.set(job.name, {
          job: job.name,
          minTasks: options.minTasks,
          maxTasks: options.maxTasks,
          backlogPerTask: options.backlogPerTask,
          desired,
          running,
          history,
        });
      }
    }
  }
}
