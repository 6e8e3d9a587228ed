/**
 * The runs dashboard of `berth dev` and of `berth console --stage`: server-rendered pages, one small script,
 * one stylesheet, a JSON API and a server-sent event stream, over a `DashboardSource` (the local engine, or a
 * deployed stage's tables, queues and logs), mounted into an HTTP server on 127.0.0.1.
 *
 * This module is the router and its security checks; the pages are in pages.ts, the JSON API and its actions
 * in api.ts, the script and stylesheet in assets.ts, what they share in context.ts.
 *
 * @example
 * const dashboard = createDashboard(engineApi, { token });
 * http.createServer(async (req, res) => {
 *   if (await dashboard(req, res)) return;
 *   // the engine's own routes
 * }).listen(8787, '127.0.0.1');
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiRoute } from './api.js';
import { loadAssets } from './assets.js';
import { createContext, type DashboardOptions, errorPage } from './context.js';
import { HttpError, send, sendHtml, sendJson } from './http.js';
import { isPagePath, servePage } from './pages.js';
import { hasToken, isAllowedHost, isCrossSite } from './security.js';
import type { DashboardSource } from './source.js';

export { type DashboardOptions, PENDING_RUN_MS } from './context.js';

export type DashboardHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * Creates the request handler. It answers `/`, `/runs`, `/runs/<id>`, `/assets/*` and its own `/api/*`
 * routes and returns true; for anything else it returns false and leaves the response alone.
 */
export function createDashboard(api: DashboardSource, options: DashboardOptions): DashboardHandler {
  const { token } = options;
  const allowedHosts = options.allowedHosts ?? [];
  const ctx = createContext(api, options);
  const assets = loadAssets();

  async function route(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const parts = path.split('/');
    const method = req.method ?? 'GET';
    const asset = assets.get(path);
    const isPage = isPagePath(path, parts);
    const apiHandler = parts[1] === 'api' ? apiRoute(ctx, method, req, res, url, parts) : undefined;
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
      await servePage(ctx, res, url, parts);
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
