/**
 * Request checks for a server that listens on 127.0.0.1 but is reachable from every page the user's
 * browser opens:
 * - DNS rebinding: a foreign name resolved to 127.0.0.1 makes the page same-origin, so the `Host` header
 *   must name the loopback interface (or one of the `allowedHosts` a deployed console is served under), or a
 *   rebound page could read the token from the HTML.
 * - Cross-site requests: `Sec-Fetch-Site` and `Origin` tell a request sent by another site; those never
 *   reach the JSON API or an action.
 * - Actions (POST) carry the per-start token in `X-Berth-Token`. A custom header cannot be sent
 *   cross-origin without a CORS preflight, which this server never grants.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostInList, isLoopbackHost } from '../runtime/local/guard.js';

// The loopback, host-list and cross-site checks live with the engine's HTTP server, which applies them to
// every route before routing (src/runtime/local/guard.ts); the dashboard applies them again to its own routes.
export { hostInList, hostName, isCrossSite, isLoopbackHost } from '../runtime/local/guard.js';

export const TOKEN_HEADER = 'x-berth-token';

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * True when `Host` names the loopback interface, or (without its port, case-insensitively) one of
 * `allowedHosts`: the names a deployed console answers to (an App Runner service URL, a private DNS name),
 * or `*.<suffix>` for every name under a domain.
 */
export function isAllowedHost(req: IncomingMessage, allowedHosts: readonly string[] = []): boolean {
  if (isLoopbackHost(req)) return true;
  const host = header(req, 'host');
  return host !== undefined && hostInList(host, allowedHosts);
}

/** Constant-time comparison of the request's token with the expected one. */
export function hasToken(req: IncomingMessage, token: string): boolean {
  const given = header(req, TOKEN_HEADER);
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
