/** The dashboard's server-rendered pages: `/` and `/jobs`, `/jobs/<name>`, `/runs`, `/runs/<id>`. */
import type { ServerResponse } from 'node:http';
import { type DashboardContext, decodeSegment, errorPage, PENDING_RUN_MS } from './context.js';
import { jobCardData, jobPageData, replayedDeadLetters, replaysOf } from './data.js';
import { DEFAULT_RUNS_LIMIT, parseRunsQuery, toRunFilter } from './filter.js';
import { sendHtml } from './http.js';
import { jobView } from './views/job.js';
import { type JobCardData, jobsView } from './views/jobs.js';
import { logPanel, pendingRunView, runView } from './views/run.js';
import { runRows, runsView } from './views/runs.js';

/** Whether the path (split on `/`) is one of the pages. */
export function isPagePath(path: string, parts: readonly string[]): boolean {
  return (
    path === '/' ||
    path === '/jobs' ||
    path === '/runs' ||
    ((parts[1] === 'runs' || parts[1] === 'jobs') && parts.length === 3)
  );
}

/** Answers a GET of a page path (`isPagePath`). */
export async function servePage(
  ctx: DashboardContext,
  res: ServerResponse,
  url: URL,
  parts: readonly string[],
): Promise<void> {
  const path = url.pathname;
  if (path === '/' || path === '/jobs') await jobsPage(ctx, res);
  else if (path === '/runs') await runsPage(ctx, res, url);
  else if (parts[1] === 'jobs') await jobPage(ctx, res, decodeSegment(parts[2] ?? ''));
  else await runPage(ctx, res, decodeSegment(parts[2] ?? ''));
}

async function jobsPage({ api, now, page, token }: DashboardContext, res: ServerResponse): Promise<void> {
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
async function jobPage(ctx: DashboardContext, res: ServerResponse, name: string): Promise<void> {
  const { api, now, page, token, options } = ctx;
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

async function runsPage(
  { api, now, page, token }: DashboardContext,
  res: ServerResponse,
  url: URL,
): Promise<void> {
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

async function runPage(ctx: DashboardContext, res: ServerResponse, runId: string): Promise<void> {
  const { api, now, page, token, options, pending } = ctx;
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
