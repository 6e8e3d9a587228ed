/**
 * `--stage` for the CLI: runs, logs, invoke and redrive against a deployed stack. The CLI loads this module
 * on demand. The `aws*` functions return the same JSON shapes as the local commands (`runJson`, invoke's
 * `{ status, runId }`, redrive's `{ runs, messages }`); the CLI prints them, or the same text as locally.
 *
 * Stack resources are found through the CloudFormation stack `<service>-<stage>` outputs `BerthRunsTableName`,
 * `BerthLaunchQueueUrl` and `BerthClusterArn`; the environment variables `BERTH_RUNS_TABLE`,
 * `BERTH_LAUNCH_QUEUE_URL` and `BERTH_CLUSTER` override them.
 */
import { randomUUID } from 'node:crypto';
import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  type GetLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import pc from 'picocolors';
import { idempotencyKey, redriveIdempotencyKey, runIdFor } from '../core/lifecycle/idempotency.js';
import { isFinalStatus, RUN_STATUSES, type RunStatus } from '../core/lifecycle/states.js';
import type { Json } from '../core/model/common.js';
import type { Job } from '../core/model/job.js';
import { createClients } from '../runtime/aws/clients.js';
import { DynamoRunStore } from '../runtime/aws/dynamoRunStore.js';
import { type InvokeMessage, invokeTrigger } from '../runtime/aws/messages.js';
import {
  jobQueueRef,
  logLocation,
  moveDeadLetters,
  resolveStack,
  type StackResources,
  type StageArgs,
  StageError,
  sendLaunchMessage,
  serviceName,
} from '../runtime/aws/stage.js';
import type { AttemptRecord, RunRecord } from '../runtime/ports.js';
import { type RunJson, runJson } from './runJson.js';

export {
  moveDeadLetters,
  resolveStack,
  type StackResources,
  type StageArgs,
  StageError,
} from '../runtime/aws/stage.js';
export { type RunJson, runJson };

function clientsFor(args: StageArgs) {
  return createClients({ region: args.region, endpoint: args.endpoint });
}

async function storeFor(args: StageArgs, stack?: StackResources) {
  const resources = stack ?? (await resolveStack(args));
  return { store: new DynamoRunStore(clientsFor(args).ddb, resources.runsTable), resources };
}

type ListArgs = StageArgs & { job?: string; status?: string; limit?: number; stack?: StackResources };

/** The runs of `berth runs list --stage`, as records (the CLI prints the same table or JSON as locally). */
export async function awsRunRecords(args: ListArgs): Promise<RunRecord[]> {
  if (args.status && !(RUN_STATUSES as readonly string[]).includes(args.status))
    throw new StageError(
      `--status: "${args.status}" is not a run status — use one of ${RUN_STATUSES.join(', ')}`,
    );
  const { store } = await storeFor(args, args.stack);
  return store.listRuns({
    ...(args.job ? { job: args.job } : {}),
    ...(args.status ? { status: args.status as RunStatus } : {}),
    limit: args.limit ?? 20,
  });
}

/** `berth runs list --stage S --json`. */
export async function awsRunsList(args: ListArgs): Promise<RunJson[]> {
  return (await awsRunRecords(args)).map(runJson);
}

/** One run and its attempts, as records. */
export async function awsRunDetail(
  args: StageArgs & { runId: string; stack?: StackResources },
): Promise<{ run: RunRecord; attempts: AttemptRecord[] }> {
  const { store } = await storeFor(args, args.stack);
  const run = await store.getRun(args.runId);
  if (!run)
    throw new StageError(
      `${args.runId}: no such run in stage ${args.stage} — list runs with berth runs list --stage ${args.stage}`,
    );
  return { run, attempts: await store.listAttempts(args.runId) };
}

/** `berth runs show --stage S --json`. */
export async function awsRunsShow(args: StageArgs & { runId: string; stack?: StackResources }) {
  const { run, attempts } = await awsRunDetail(args);
  return { ...runJson(run), attemptDetails: attempts };
}

export interface LogsArgs extends StageArgs {
  runId: string;
  /** Only this attempt (no `── attempt n ──` headers, as locally). */
  attempt?: number;
  /** Keep printing new lines until the run is final (or `signal` aborts, or `maxFollowMs` passes). */
  follow?: boolean;
  /** Where the text goes. @default process.stdout.write */
  write?: (text: string) => void;
  /** Stops following (the CLI aborts it on Ctrl-C). */
  signal?: AbortSignal;
  /** Time between polls while following. @default 2000 */
  pollMs?: number;
  /** Longest follow. @default 24 hours */
  maxFollowMs?: number;
  stack?: StackResources;
}

/** Per attempt: where its stream is and how far it has been read. */
interface StreamCursor {
  where?: { group: string; stream: string };
  token?: string;
  printed: boolean;
  noted: boolean;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * `berth runs logs --stage S`: every attempt's CloudWatch log lines (or one attempt's), the same headers as
 * the local command. With `follow`, polls `GetLogEvents` from each stream's `nextForwardToken` until the run
 * is final, then polls once more for lines the awslogs driver delivers after the container exits.
 */
export async function awsRunsLogs(args: LogsArgs): Promise<void> {
  const write = args.write ?? ((text: string) => void process.stdout.write(text));
  const { store, resources } = await storeFor(args, args.stack);
  const logs = new CloudWatchLogsClient({
    ...(args.region ? { region: args.region } : {}),
    ...(args.endpoint ? { endpoint: args.endpoint } : {}),
  });
  const cursors = new Map<number, StreamCursor>();
  const header = (n: number) => {
    if (args.attempt === undefined) write(pc.dim(`── attempt ${n} ──\n`));
  };

  /** Prints what is new in one attempt's stream; `ended` attempts whose stream cannot be found get a note. */
  const pump = async (attempt: AttemptRecord): Promise<void> => {
    let cursor = cursors.get(attempt.attempt);
    if (!cursor) {
      cursor = { printed: false, noted: false };
      cursors.set(attempt.attempt, cursor);
    }
    cursor.where ??= await logLocation(clientsFor(args).ecs, resources.cluster, attempt);
    if (!cursor.where) {
      const note = attempt.taskArn
        ? `(ECS no longer describes ${attempt.taskArn}; find its stream in the job's log group)\n`
        : '(no task was started)\n';
      if ((!args.follow || attempt.status === 'ended') && !cursor.noted) {
        header(attempt.attempt);
        write(note);
        cursor.noted = true;
      }
      return;
    }
    for (let page = 0; page < 50; page++) {
      let out: GetLogEventsCommandOutput;
      try {
        out = await logs.send(
          new GetLogEventsCommand({
            logGroupName: cursor.where.group,
            logStreamName: cursor.where.stream,
            startFromHead: true,
            ...(cursor.token ? { nextToken: cursor.token } : {}),
          }),
        );
      } catch (error) {
        // The stream appears with the container's first line.
        if ((error as Error).name === 'ResourceNotFoundException') return;
        throw error;
      }
      const events = out.events ?? [];
      if (events.length && !cursor.printed) {
        header(attempt.attempt);
        cursor.printed = true;
      }
      for (const e of events) write(`${e.message ?? ''}\n`);
      const next = out.nextForwardToken;
      const same = !next || next === cursor.token;
      if (next) cursor.token = next;
      if (same || events.length === 0) return;
    }
  };

  const load = async () => {
    const run = await store.getRun(args.runId);
    if (!run)
      throw new StageError(
        `${args.runId}: no such run in stage ${args.stage} — list runs with berth runs list --stage ${args.stage}`,
      );
    const attempts = (await store.listAttempts(args.runId)).filter(
      (a) => args.attempt === undefined || a.attempt === args.attempt,
    );
    return { run, attempts };
  };

  if (!args.follow) {
    const { run, attempts } = await load();
    if (args.attempt !== undefined && attempts.length === 0)
      throw new StageError(
        `--attempt ${args.attempt}: run ${run.runId} has ${run.attempt === 1 ? 'attempt 1 only' : `attempts 1–${run.attempt}`}`,
      );
    for (const a of attempts) await pump(a);
    return;
  }

  const pollMs = args.pollMs ?? 2000;
  const limitMs = args.maxFollowMs ?? 24 * 3_600_000;
  const deadline = Date.now() + limitMs;
  let finalPolls = 0;
  for (;;) {
    const { run, attempts } = await load();
    for (const a of attempts) await pump(a);
    if (isFinalStatus(run.status) && ++finalPolls > 1) {
      write(pc.dim(`── run ${run.status} ──\n`));
      return;
    }
    if (args.signal?.aborted) {
      write(pc.dim(`── stopped following; run ${run.runId} is ${run.status} ──\n`));
      return;
    }
    if (Date.now() >= deadline) {
      write(pc.dim(`── stopped following after ${Math.round(limitMs / 1000)} s; run is ${run.status} ──\n`));
      return;
    }
    await sleep(pollMs, args.signal);
  }
}

/**
 * `berth invoke --stage S`: puts a manual launch on the stage's launch queue and returns the run id the
 * launcher will give it (derived from the same trigger the launcher builds from the message). `status` is
 * `queued`: the launcher accepts it (or drops it as a duplicate of an earlier invoke with the same
 * idempotency key, or skips it by the job's overlap policy) when it takes the message.
 */
export async function awsInvoke(
  args: StageArgs & { job: string; payload?: Json; idempotencyKey?: string; stack?: StackResources },
): Promise<{ status: 'queued'; runId: string }> {
  const resources = args.stack ?? (await resolveStack(args));
  const message: InvokeMessage = {
    type: 'invoke',
    job: args.job,
    requestId: randomUUID(),
    ...(args.payload !== undefined ? { payload: args.payload } : {}),
    ...(args.idempotencyKey ? { idempotencyKey: args.idempotencyKey } : {}),
  };
  await sendLaunchMessage(clientsFor(args).sqs, resources.launchQueueUrl, message);
  return { status: 'queued', runId: runIdFor(idempotencyKey(args.job, invokeTrigger(message))) };
}

export interface RedriveResult {
  /** `queued` (the launcher starts `runId`), or `already-redriven` (`runId` is the earlier replay). */
  runs: { from: string; status: string; runId?: string }[];
  /** Messages moved from the job queue's dead-letter queue back to the job queue. */
  messages: number;
}

/** `berth redrive launch-queue --stage S`: the launch queue's dead-letter queue, not a job or a run. */
export const LAUNCH_QUEUE_TARGET = 'launch-queue';

/**
 * `berth redrive <job|runId> --stage S`: re-launches dead-lettered runs (one run id, or every dead-lettered
 * run of a job) as new runs with the same trigger, and for a job moves its queue's dead-letter messages back
 * to its queue. Same result shape as the local command; a run redriven earlier is `already-redriven` (the
 * launcher clears the dead-letter mark and notes `redriven as <runId>` in its decision).
 */
export async function awsRedrive(
  args: StageArgs & { target: string; jobs: Job[]; stack?: StackResources; waitSeconds?: number },
): Promise<RedriveResult> {
  const { store, resources } = await storeFor(args, args.stack);
  const job = args.jobs.find((j) => j.name === args.target);
  if (!job && args.target === LAUNCH_QUEUE_TARGET) {
    // Triggers that never became runs (a record failing 10 times, EventBridge or Scheduler giving up): their
    // messages go back to the launch queue as they were; the launcher's log says why each one failed.
    const url = resources.launchQueueUrl;
    const messages = await moveDeadLetters(
      clientsFor(args).sqs,
      { name: url.slice(url.lastIndexOf('/') + 1) },
      {
        ...(args.waitSeconds !== undefined ? { waitSeconds: args.waitSeconds } : {}),
      },
    );
    return { runs: [], messages };
  }
  let candidates: RunRecord[];
  if (job) {
    candidates = (await store.listRuns({ job: job.name, limit: 10_000 })).filter((r) => r.deadLettered);
  } else {
    const run = await store.getRun(args.target);
    if (!run)
      throw new StageError(
        `${args.target}: neither a job nor a run id (nor ${LAUNCH_QUEUE_TARGET}) in stage ${args.stage} — list runs with berth runs list --stage ${args.stage}`,
      );
    candidates = [run];
  }
  const runs: RedriveResult['runs'] = [];
  for (const run of candidates) {
    if (!run.deadLettered) {
      const by = /redriven as (r[0-9a-z]{20})/.exec(run.decision ?? '')?.[1];
      if (by) {
        runs.push({ from: run.runId, status: 'already-redriven', runId: by });
        continue;
      }
      throw new StageError(
        `${run.runId}: is ${run.status}, not dead-lettered — only runs that failed for good can be redriven`,
      );
    }
    const requestId = randomUUID();
    await sendLaunchMessage(clientsFor(args).sqs, resources.launchQueueUrl, {
      type: 'redrive',
      job: run.job,
      runId: run.runId,
      requestId,
    });
    // The launcher derives the replay's id from the run alone (one replay however many requests).
    runs.push({
      from: run.runId,
      status: 'queued',
      runId: runIdFor(redriveIdempotencyKey(run.job, run.runId)),
    });
  }
  let messages = 0;
  const queue = job ? jobQueueRef(serviceName(args), args.stage, job) : undefined;
  if (queue)
    messages = await moveDeadLetters(clientsFor(args).sqs, queue, {
      ...(args.waitSeconds !== undefined ? { waitSeconds: args.waitSeconds } : {}),
    });
  return { runs, messages };
}
