/**
 * What the dashboard's page handlers (pages.ts) and JSON routes (api.ts) share: the source, the options, the
 * clock, the page layout with the source's label and load problems, the error page, and the runs queued from
 * this dashboard that the launcher may not have started yet.
 */
import { type Html, html } from './html.js';
import { HttpError } from './http.js';
import type { DashboardSource } from './source.js';
import { page as layoutPage, type PageOptions } from './views/layout.js';

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

/**
 * How long a run queued from this dashboard (`{ status: 'queued' }`: a deployed stage's launch queue) gets a
 * "waiting for the launcher" page instead of a 404 while it is not in the runs table yet.
 */
export const PENDING_RUN_MS = 10 * 60_000;
/** Most queued run ids remembered at once (the oldest are forgotten first). */
const PENDING_RUNS = 1000;

export interface DashboardContext {
  api: DashboardSource;
  options: DashboardOptions;
  token: string;
  now: () => Date;
  /** Runs this dashboard queued that the launcher may not have started yet: run id → job and when. */
  pending: Map<string, { job: string; at: Date }>;
  /** Remembers the queued runs among an action's results, and returns the results as they are. */
  noteQueued<T>(job: string | undefined, result: T): T;
  /** Every page shows the files that fail to load (reload on change) above its content. */
  page(o: PageOptions): Html;
}

export function createContext(api: DashboardSource, options: DashboardOptions): DashboardContext {
  const now = options.now ?? (() => new Date());
  const pending = new Map<string, { job: string; at: Date }>();
  return {
    api,
    options,
    token: options.token,
    now,
    pending,
    noteQueued<T>(job: string | undefined, result: T): T {
      for (const r of Array.isArray(result) ? result : [result]) {
        const { status, runId } = (r ?? {}) as { status?: unknown; runId?: unknown };
        if (status !== 'queued' || typeof runId !== 'string') continue;
        pending.delete(runId);
        pending.set(runId, { job: job ?? '', at: now() });
        if (pending.size > PENDING_RUNS) pending.delete(pending.keys().next().value as string);
      }
      return result;
    },
    page: (o: PageOptions) =>
      layoutPage({
        ...o,
        problems: api.loadProblems?.().map((p) => p.message) ?? [],
        ...(api.label ? { source: api.label } : {}),
        ...(options.signOutPath ? { signOut: options.signOutPath } : {}),
      }),
  };
}

export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `"${segment}" is not a valid URL path segment`);
  }
}

export function errorPage(token: string, status: number, message: string, signOut?: string): Html {
  return layoutPage({
    title: status === 404 ? 'Not found' : 'Error',
    view: 'error',
    token,
    ...(signOut ? { signOut } : {}),
    body: html`<h1>${status === 404 ? 'Not found' : 'Something went wrong'}</h1><p>${message}</p><p><a href="/">Back to the jobs</a></p>`,
  });
}
