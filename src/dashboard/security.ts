/**
 * Request checks for a server that listens on 127.0.0.1 but is reachable from every page the user's
 * browser opens:
 * - DNS rebinding: a foreign name resolved to 127.0.0.1 makes the page same-origin, so the `Host` header
 *   must name the loopback interface, or a rebound page could read the token from the HTML.
 * - Cross-site requests: `Sec-Fetch-Site` and `Origin` tell a request sent by another site; those never
 *   reach the JSON API or an action.
 * - Actions (POST) carry the per-start token in `X-Berth-Token`. A custom header cannot be sent
 *   cross-origin without a CORS preflight, which this server never grants.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_HEADER = 'x-berth-token';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The host name of a `Host` header without its port: `127.0.0.1:8787` → `127.0.0.1`. */
export function hostName(hostHeader: string): string {
  if (hostHeader.startsWith('[')) {
    const end = hostHeader.indexOf(']');
    return end === -1 ? hostHeader : hostHeader.slice(0, end + 1);
  }
  const colon = hostHeader.indexOf(':');
  return colon === -1 ? hostHeader : hostHeader.slice(0, colon);
}

/** True when `Host` names the loopback interface (any port). */
export function isLoopbackHost(req: IncomingMessage): boolean {
  const host = header(req, 'host');
  return host !== undefined && LOOPBACK_HOSTS.has(hostName(host.toLowerCase()));
}

/**
 * True when the browser says another site sent the request. Requests without these headers (curl, the
 * CLI, old browsers) are not cross-site by this test; for them the token decides.
 */
export function isCrossSite(req: IncomingMessage): boolean {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = header(req, 'origin');
  if (origin === undefined) return false;
  // Sandboxed frames and some redirects send the literal "null".
  if (origin === 'null') return true;
  const host = header(req, 'host');
  return host === undefined || origin.toLowerCase() !== `http://${host.toLowerCase()}`;
}

/** Constant-time comparison of the request's token with the expected one. */
export function hasToken(req: IncomingMessage, token: string): boolean {
  const given = header(req, TOKEN_HEADER);
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
