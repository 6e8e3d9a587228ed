/**
 * The console's logs: an attempt's log from CloudWatch Logs (GetLogEvents), the stream found from the task's
 * awslogs options (ECS, while it still knows the task) or from the names berth's compiler gives. The cursor is
 * GetLogEvents' forward token.
 */
import { GetLogEventsCommand, type GetLogEventsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';
import { logLocation } from '../../runtime/aws/stage.js';
import { DEFAULT_LOG_TAIL, type LogRead, lineStream, type ReadLogOptions } from '../../runtime/logs.js';
import type { RunRecord } from '../../runtime/ports.js';
import type { SourceContext } from './context.js';

/** The log cursor of a CloudWatch stream: GetLogEvents' forward token. */
const TOKEN_PREFIX = 'cw:';

interface StreamLocation {
  group: string;
  stream: string;
}

export class ConsoleLogs {
  private readonly logStreams = new Map<string, StreamLocation>();
  /** What ECS said about a task's awslogs options (null: nothing, use berth's names). */
  private readonly ecsLocations = new Map<string, StreamLocation | null>();
  private readonly attemptTasks = new Map<string, { job: string; taskArn: string | null }>();

  /** `getRun`: the runs' reader (current in memory while the poll runs). */
  constructor(
    private readonly ctx: SourceContext,
    private readonly getRun: (runId: string) => Promise<RunRecord | undefined>,
  ) {}

  /** An attempt's job and task (kept once it has one: a task ARN never changes). */
  private async attemptTask(
    runId: string,
    attemptNo: number,
  ): Promise<{ job: string; taskArn: string | null } | undefined> {
    const key = `${runId}#${attemptNo}`;
    const known = this.attemptTasks.get(key);
    if (known) return known;
    const [run, attempts] = await Promise.all([this.getRun(runId), this.ctx.store.listAttempts(runId)]);
    const attempt = attempts.find((a) => a.attempt === attemptNo);
    if (!run || !attempt) return undefined;
    const found = { job: run.job, taskArn: attempt.taskArn };
    if (found.taskArn) this.attemptTasks.set(key, found);
    return found;
  }

  /**
   * Where an attempt's log is: the awslogs options of its task definition (ECS DescribeTasks while ECS still
   * knows the task, about an hour after it stops), else the names berth's compiler gives (`/berth/<base>/jobs/<job>`
   * or the shared `/berth/<base>/jobs`, stream `<job>/main/<task id>`).
   */
  private async streamsOf(attempt: { job: string; taskArn: string | null }): Promise<StreamLocation[]> {
    const taskArn = attempt.taskArn;
    if (!taskArn) return [];
    const known = this.logStreams.get(taskArn);
    if (known) return [known];
    let found = this.ecsLocations.get(taskArn);
    if (found === undefined) {
      try {
        found = (await logLocation(this.ctx.clients.ecs, this.ctx.resources.cluster, attempt)) ?? null;
      } catch {
        // ECS may not describe it any more; the names below still find the stream.
        found = null;
      }
      this.ecsLocations.set(taskArn, found);
    }
    if (found) {
      this.logStreams.set(taskArn, found);
      return [found];
    }
    const stream = `${attempt.job}/main/${taskArn.slice(taskArn.lastIndexOf('/') + 1)}`;
    return [
      { group: this.ctx.names.jobLogGroup(attempt.job), stream },
      { group: this.ctx.names.logGroup, stream },
    ];
  }

  async readLog(runId: string, attemptNo: number, options: ReadLogOptions = {}): Promise<LogRead> {
    const empty: LogRead = {
      lines: [],
      next: options.offset ?? '',
      more: false,
      truncated: false,
      exists: false,
      partial: false,
      reset: false,
    };
    if (options.offset !== undefined && options.offset !== '' && !options.offset.startsWith(TOKEN_PREFIX)) {
      throw new RangeError(
        `log offset "${options.offset}" is not a CloudWatch Logs token — pass the "next" of an earlier read`,
      );
    }
    const attempt = await this.attemptTask(runId, attemptNo);
    if (!attempt) return empty;
    const token = options.offset ? options.offset.slice(TOKEN_PREFIX.length) : undefined;
    const tail = options.tail ?? DEFAULT_LOG_TAIL;
    for (const where of await this.streamsOf(attempt)) {
      let out: GetLogEventsCommandOutput;
      try {
        out = await this.ctx.clients.logs.send(
          new GetLogEventsCommand({
            logGroupName: where.group,
            logStreamName: where.stream,
            ...(token ? { nextToken: token, startFromHead: true } : { startFromHead: false, limit: tail }),
          }),
        );
      } catch (error) {
        // The stream appears with the container's first line (or lives in the other group).
        if ((error as Error).name === 'ResourceNotFoundException') continue;
        throw error;
      }
      if (attempt.taskArn) this.logStreams.set(attempt.taskArn, where);
      const events = out.events ?? [];
      const next = out.nextForwardToken ? `${TOKEN_PREFIX}${out.nextForwardToken}` : (options.offset ?? '');
      return {
        lines: events.map((e) => ({
          stream: lineStream(e.message ?? ''),
          text: (e.message ?? '').replace(/\r?\n$/, ''),
          ...(e.timestamp !== undefined ? { at: new Date(e.timestamp).toISOString() } : {}),
        })),
        next,
        // A page that came back with events may have more behind it; an empty one means "caught up".
        more: token !== undefined && events.length > 0 && out.nextForwardToken !== token,
        truncated: token === undefined && events.length >= tail,
        exists: true,
        partial: false,
        reset: false,
      };
    }
    return empty;
  }
}
