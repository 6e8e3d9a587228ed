/**
 * The runs dashboard of `berth dev` and of `berth console --stage`: server-rendered pages, one small script,
 * one stylesheet, a JSON API and a server-sent event stream, over a `DashboardSource` (the local engine, or a
 * deployed stage's tables, queues and logs), mounted into an HTTP server on 127.0.0.1.
 *
 * @example
 * const dashboard = createDashboard(engineApi, { token });
 * http.createServer(async (req, res) => {
 *   if (await dashboard(req, res)) return;
 *   // the engine's own routes
 * }).listen(8787, '127.0.0.1');
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunRecord } from '../runtime/ports.js';
import { jobCardData, jobPageData, replayedDeadLetters, replaysOf } from './data.js';
import { openEventStream } from './events.js';
import { DEFAULT_RUNS_LIMIT, parseApiRunFilter, parseRunsQuery, toRunFilter } from './filter.js';
import { html } from './html.js';
import { HttpError, readJsonBody, send, sendHtml, sendJson } from './http.js';
import { hasToken, isAllowedHost, isCrossSite } from './security.js';
import type { DashboardSource } from './source.js';
import { jobView } from './views/job.js';
import { type JobCardData, jobsView } from './views/jobs.js';
import { page as layoutPage, type PageOptions } from './views/layout.js';
import { logPanel, pendingRunView, runView } from './views/run.js';
import { runRows, runsView } from './views/runs.js';

export interface DashboardOptions {
  /** The per-start token that every action (POST) must carry in `X-Berth-Token`. */
  token: string;
  /**
   * Host names (without port) the pages answer to besides 127.0.0.1 and localhost: the names a deployed
   * console is reached under. Any other `Host` gets 403 (DNS rebinding).
   */
  allowedHosts?: readonly string[];
  /** Time source, for tests. @default () => new Date() */
  now?: () => Date;
  /** Path the header's Sign out button posts to (a console behind a sign-in); no button without it. */
  signOutPath?: string;
}

export type DashboardHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * How long a run queued from this dashboard (`{ status: 'queued' }`: a deployed stage's launch queue) gets a
 * "waiting for the launcher" page instead of a 404 while it is not in the runs table yet.
 */
export const PENDING_RUN_MS = 10 * 60_000;
/** Most queued run ids remembered at once (the oldest are forgotten first). */
const PENDING_RUNS = 1000;

/** Longest log cursor accepted (a byte offset, or a CloudWatch token of about 60 characters). */
const MAX_LOG_CURSOR = 512;

const ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

function loadAssets(): Map<string, { body: Buffer; type: string }> {
  const out = new Map<string, { body: Buffer; type: string }>();
  for (const [path, a] of Object.entries(ASSETS)) {
    out.set(path, { body: readFileSync(new URL(`./assets/${a.file}`, import.meta.url)), type: a.type });
  }
  return out;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `"${segment}" is not a valid URL path segment`);
  }
}

function errorPage(token: string, status: number, message: string, signOut?: string) {
  return layoutPage({
    title: status === 404 ? 'Not found' : 'Error',
    view: 'error',
    token,
    ...(signOut ? { signOut } : {}),
    body: html`<h1>${status === 404 ? 'Not found' : 'Something went wrong'}</h1><p>${message}</p><p><a href="/">Back to the jobs</a></p>`,
  });
}

/**
 * Creates the request handler. It answers `/`, `/runs`, `/runs/<id>`, `/assets/*` and its own `/api/*`
 * routes and returns true; for anything else it returns false and leaves the response alone.
 */
export function createDashboard(api: DashboardSource, options: DashboardOptions): DashboardHandler {
  const { token } = options;
  const allowedHosts = options.allowedHosts ?? [];
  const now = options.now ?? (() => new Date());
  const assets = loadAssets();
  /** Runs this dashboard queued that the launcher may not have started yet: run id → job and when. */
  const pending = new Map<string, { job: string; at: Date }>();
  /** Remembers the queued runs among an action's results, and returns the results as they are. */
  function noteQueued<T>(job: string | undefined, result: T): T {
    for (const r of Array.isArray(result) ? result : [result]) {
      const { status, runId } = (r ?? {}) as { status?: unknown; runId?: unknown };
      if (status !== 'queued' || typeof runId !== 'string') continue;
      pending.delete(runId);
      pending.set(runId, { job: job ?? '', at: now() });
      if (pending.size > PENDING_RUNS) pending.delete(pending.keys().next().value as string);
    }
    return result;
  }
  /** Every page shows the files that fail to load (reload on change) above its content. */
  const page = (o: PageOptions) =>
    layoutPage({
      ...o,
      problems: api.loadProblems?.().map((p) => p.message) ?? [],
      ...(api.label ? { source: api.label } : {}),
      ...(options.signOutPath ? { signOut: options.signOutPath } : {}),
    });

  async function jobsPage(res: ServerResponse): Promise<void> {
    const at = now();
    const cards = (await Promise.all(api.jobs().map((j) => jobCardData(api, j.name, at)))).filter(
      (c): c is JobCardData => c !== undefined,
    );
    sendHtml(
      res,
      200,
      page({ title: 'Jobs', view: 'jobs', token, events: '/api/events?view=jobs', body: jobsView(cards) }),
    );
  }

  /** `/jobs/<name>`: the job's row, plots over time, path of a run, actions (views/job.ts). */
  async function jobPage(res: ServerResponse, name: string): Promise<void> {
    const data = await jobPageData(api, name, now());
    if (!data) {
      sendHtml(res, 404, errorPage(token, 404, `There is no job ${name}.`, options.signOutPath));
      return;
    }
    sendHtml(
      res,
      200,
      page({
        title: name,
        view: 'job',
        token,
        events: `/api/events?${new URLSearchParams({ view: 'job', job: name })}`,
        body: jobView(data),
      }),
    );
  }

  async function runsPage(res: ServerResponse, url: URL): Promise<void> {
    const query = parseRunsQuery(url.searchParams);
    const at = now();
    const runs = await api.listRuns(toRunFilter(query, at));
    const replayed = await replayedDeadLetters(api, runs);
    if (url.searchParams.get('partial') === 'rows') {
      sendHtml(res, 200, runRows(runs, at, replayed));
      return;
    }
    const events = new URLSearchParams({ view: 'runs' });
    for (const [k, v] of Object.entries(query)) if (v) events.set(k, String(v));
    sendHtml(
      res,
      200,
      page({
        title: 'Runs',
        view: 'runs',
        token,
        events: `/api/events?${events}`,
        body: runsView({
          jobs: api.jobs().map((j) => j.name),
          query,
          runs,
          limit: DEFAULT_RUNS_LIMIT,
          now: at,
          replayed,
        }),
      }),
    );
  }

  async function runPage(res: ServerResponse, runId: string): Promise<void> {
    const run = await api.getRun(runId);
    if (!run) {
      const queued = pending.get(runId);
      const at = now();
      if (queued && at.getTime() - queued.at.getTime() < PENDING_RUN_MS) {
        // Queued from here, not started yet: say so, and open the run once it exists (dashboard.js).
        sendHtml(
          res,
          202,
          page({
            title: `Run ${runId}`,
            view: 'run',
            token,
            events: `/api/events?${new URLSearchParams({ view: 'run', run: runId })}`,
            body: pendingRunView({ runId, job: queued.job, requestedAt: queued.at, now: at }),
          }),
        );
        return;
      }
      const note = queued
        ? ` It was sent to the launch queue ${Math.round((at.getTime() - queued.at.getTime()) / 60_000)} minutes ago and the launcher has not started it: its log says why, and the message is in the launch queue's dead-letter queue (berth redrive launch-queue --stage …).`
        : '';
      sendHtml(res, 404, errorPage(token, 404, `There is no run ${runId}.${note}`, options.signOutPath));
      return;
    }
    pending.delete(runId);
    const attempts = await api.listAttempts(runId);
    const logs = await Promise.all(
      attempts.map(async (a, i) =>
        logPanel(run, a, await api.readLog(runId, a.attempt), i === attempts.length - 1),
      ),
    );
    sendHtml(
      res,
      200,
      page({
        title: `Run ${run.runId}`,
        view: 'run',
        token,
        events: `/api/events?${new URLSearchParams({ view: 'run', run: run.runId })}`,
        body: runView({
          run,
          attempts,
          job: api.jobs().find((j) => j.name === run.job),
          logs,
          now: now(),
          replays: await replaysOf(api, run.runId),
        }),
      }),
    );
  }

  async function requireRun(runId: string): Promise<RunRecord> {
    const run = await api.getRun(runId);
    if (!run) throw new HttpError(404, `there is no run ${runId}`);
    return run;
  }

  function requireJob(name: string): void {
    if (!api.jobs().some((j) => j.name === name)) throw new HttpError(404, `there is no job ${name}`);
  }

  /** An engine rejection of an action is the caller's problem (409), not the server's. */
  async function action<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw new HttpError(409, error instanceof Error ? error.message : String(error));
    }
  }

  type Handler = () => Promise<void>;

  /** The dashboard's JSON routes; `undefined` leaves the request to the engine. */
  function apiRoute(
    method: string,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    parts: string[],
  ): Handler | undefined {
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

  async function route(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const parts = path.split('/');
    const method = req.method ?? 'GET';
    const asset = assets.get(path);
    const isPage =
      path === '/' ||
      path === '/jobs' ||
      path === '/runs' ||
      ((parts[1] === 'runs' || parts[1] === 'jobs') && parts.length === 3);
    const apiHandler = parts[1] === 'api' ? apiRoute(method, req, res, url, parts) : undefined;
    if (!asset && !isPage && !apiHandler) return false;

    if (!isAllowedHost(req, allowedHosts)) {
      // DNS rebinding: a foreign name that resolves to 127.0.0.1 must not see the token or the data.
      const names = ['127.0.0.1', 'localhost', ...allowedHosts].join(', ');
      send(res, 403, 'text/plain; charset=utf-8', `this dashboard answers only to ${names}\n`);
      return true;
    }
    if (isPage) {
      if (method !== 'GET') {
        send(res, 405, 'text/plain; charset=utf-8', 'use GET\n', { Allow: 'GET' });
        return true;
      }
      if (path === '/' || path === '/jobs') await jobsPage(res);
      else if (path === '/runs') await runsPage(res, url);
      else if (parts[1] === 'jobs') await jobPage(res, decodeSegment(parts[2] ?? ''));
      else await runPage(res, decodeSegment(parts[2] ?? ''));
      return true;
    }
    // Assets and the JSON API are never for another site; actions also need the token.
    if (isCrossSite(req)) {
      sendJson(res, 403, { error: 'cross-site request refused' });
      return true;
    }
    if (asset) {
      if (method !== 'GET') {
        send(res, 405, 'text/plain; charset=utf-8', 'use GET\n', { Allow: 'GET' });
        return true;
      }
      send(res, 200, asset.type, asset.body);
      return true;
    }
    if (method === 'POST' && !hasToken(req, token)) {
      sendJson(res, 403, { error: 'missing or wrong X-Berth-Token: reload the dashboard page' });
      return true;
    }
    await apiHandler?.();
    return true;
  }

  return async (req, res) => {
    try {
      return await route(req, res);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) {
        const wantsHtml = !(req.url ?? '').startsWith('/api/');
        if (wantsHtml) sendHtml(res, status, errorPage(token, status, message, options.signOutPath));
        else sendJson(res, status, { error: message });
      } else {
        res.destroy();
      }
      return true;
    }
  };
}
