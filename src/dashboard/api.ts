/**
 * The dashboard's JSON API under `/api/`: the event stream, jobs, runs, a run, an attempt's log (GET), and
 * the actions (POST): invoke, redrive and replay-failed a job; replay, cancel and redrive a run.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunRecord } from '../runtime/ports.js';
import { type DashboardContext, decodeSegment } from './context.js';
import { jobCardData } from './data.js';
import { openEventStream } from './events.js';
import { parseApiRunFilter } from './filter.js';
import { HttpError, readJsonBody, sendJson } from './http.js';
import type { JobCardData } from './views/jobs.js';

/** Longest log cursor accepted (a byte offset, or a CloudWatch token of about 60 characters). */
const MAX_LOG_CURSOR = 512;

export type ApiHandler = () => Promise<void>;

/** An engine rejection of an action is the caller's problem (409), not the server's. */
async function action<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(409, error instanceof Error ? error.message : String(error));
  }
}

/** The dashboard's JSON routes; `undefined` leaves the request to the engine. */
export function apiRoute(
  ctx: DashboardContext,
  method: string,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  parts: string[],
): ApiHandler | undefined {
  const { api, now, noteQueued } = ctx;

  async function requireRun(runId: string): Promise<RunRecord> {
    const run = await api.getRun(runId);
    if (!run) throw new HttpError(404, `there is no run ${runId}`);
    return run;
  }

  function requireJob(name: string): void {
    if (!api.jobs().some((j) => j.name === name)) throw new HttpError(404, `there is no job ${name}`);
  }

  const [, , resource, id, sub, n, leaf] = parts;
  if (method === 'GET') {
    if (resource === 'events' && parts.length === 3) {
      return async () => openEventStream(api, req, res, url.searchParams, now);
    }
    if (resource === 'jobs' && parts.length === 3) {
      return async () => {
        const at = now();
        const cards = await Promise.all(api.jobs().map((j) => jobCardData(api, j.name, at)));
        sendJson(
          res,
          200,
          cards
            .filter((c): c is JobCardData => c !== undefined)
            .map((c) => ({
              name: c.job.name,
              file: c.job.file,
              nextFireTimes: c.nextFireTimes,
              queue: c.queue,
              ...(c.workers ? { workers: c.workers } : {}),
            })),
        );
      };
    }
    if (resource === 'runs' && parts.length === 3) {
      return async () => {
        let filter: ReturnType<typeof parseApiRunFilter>;
        try {
          filter = parseApiRunFilter(url.searchParams, now());
        } catch (error) {
          throw new HttpError(400, (error as Error).message);
        }
        sendJson(res, 200, await api.listRuns(filter));
      };
    }
    if (resource === 'runs' && id !== undefined && parts.length === 4) {
      return async () => {
        const run = await requireRun(decodeSegment(id));
        sendJson(res, 200, { run, attempts: await api.listAttempts(run.runId) });
      };
    }
    if (
      resource === 'runs' &&
      id !== undefined &&
      sub === 'attempts' &&
      leaf === 'log' &&
      parts.length === 7
    ) {
      return async () => {
        // The run must exist: the source is only ever asked about real run ids, never a path from the URL.
        const run = await requireRun(decodeSegment(id));
        const attempt = Number(n);
        if (!Number.isInteger(attempt) || attempt < 1 || attempt > run.attempt) {
          throw new HttpError(404, `run ${run.runId} has no attempt ${n}`);
        }
        const offset = url.searchParams.get('offset') || undefined;
        if (offset !== undefined && offset.length > MAX_LOG_CURSOR) {
          throw new HttpError(400, `offset is longer than ${MAX_LOG_CURSOR} characters`);
        }
        try {
          const read = await api.readLog(run.runId, attempt, offset === undefined ? {} : { offset });
          sendJson(res, 200, api.logPollMs ? { ...read, pollMs: api.logPollMs } : read);
        } catch (error) {
          if (error instanceof RangeError) throw new HttpError(400, error.message);
          throw error;
        }
      };
    }
    return undefined;
  }
  if (method !== 'POST' || parts.length !== 5 || id === undefined || sub === undefined) return undefined;
  const verb = sub;
  if (resource === 'jobs' && verb === 'invoke') {
    return async () => {
      const target = decodeSegment(id);
      requireJob(target);
      const body = await readJsonBody(req);
      if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
        throw new HttpError(400, 'the body must be a JSON object such as {"payload": {"key": "value"}}');
      }
      const payload = (body as { payload?: unknown } | undefined)?.payload;
      const s3 = (body as { s3?: unknown } | undefined)?.s3;
      if (s3 === undefined) {
        sendJson(res, 202, noteQueued(target, await action(() => api.invoke(target, payload))));
        return;
      }
      const { bucket, key } = (s3 ?? {}) as { bucket?: unknown; key?: unknown };
      if (
        typeof s3 !== 'object' ||
        s3 === null ||
        typeof key !== 'string' ||
        (bucket !== undefined && typeof bucket !== 'string')
      ) {
        throw new HttpError(
          400,
          's3 must be an object such as {"bucket": "uploads", "key": "images/cat.jpg"}',
        );
      }
      if (payload !== undefined) {
        throw new HttpError(
          400,
          'give either payload or s3: an S3-triggered run gets the object as its trigger',
        );
      }
      const s3Input = bucket === undefined ? { key } : { bucket, key };
      sendJson(
        res,
        202,
        await action(() =>
          api.invoke(target, undefined, { s3: s3Input }).catch((error: Error) => {
            // No such object, a bucket the job does not listen to, a key S3 would refuse: the input's fault.
            throw error.name === 'ManualS3Error' ? new HttpError(400, error.message) : error;
          }),
        ),
      );
    };
  }
  if (resource === 'jobs' && verb === 'redrive') {
    return async () => {
      const target = decodeSegment(id);
      requireJob(target);
      const redriveQueue = api.redriveQueue?.bind(api);
      if (!redriveQueue) throw new HttpError(404, 'this dashboard has no dead-letter queues to redrive');
      sendJson(res, 202, { job: target, messages: await action(() => redriveQueue(target)) });
    };
  }
  if (resource === 'jobs' && verb === 'replay-failed') {
    return async () => {
      const target = decodeSegment(id);
      requireJob(target);
      sendJson(res, 202, { results: noteQueued(target, await action(() => api.replayFailed(target))) });
    };
  }
  if (resource === 'runs' && (verb === 'replay' || verb === 'cancel' || verb === 'redrive')) {
    return async () => {
      const run = await requireRun(decodeSegment(id));
      if (verb === 'replay')
        sendJson(res, 202, noteQueued(run.job, await action(() => api.replay(run.runId))));
      else if (verb === 'redrive')
        sendJson(res, 202, noteQueued(run.job, await action(() => api.redrive(run.runId))));
      else if (await action(() => api.cancel(run.runId))) {
        sendJson(res, 202, { cancelled: true, runId: run.runId });
      } else {
        sendJson(res, 409, { error: `run ${run.runId} has already ended`, cancelled: false });
      }
    };
  }
  return undefined;
}
