/**
 * The first check on every request to the engine's HTTP server (127.0.0.1, reachable from every page the
 * user's browser opens), before any routing:
 * - DNS rebinding: a foreign name resolved to 127.0.0.1 makes a page same-origin with the engine, so the
 *   `Host` header must name the loopback interface — else a rebound page could send messages, read the
 *   outcome stream and take a worker's messages.
 * - Cross-site requests: `Sec-Fetch-Site` and `Origin` tell a request another site's page sent; none is
 *   answered, except a top-level GET navigation (a link to the dashboard), whose answer the other site
 *   cannot read.
 */
import type { IncomingMessage } from 'node:http';

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
 * CLI, SDKs, old browsers) are not cross-site by this test; for them the token or the signature decides.
 */
export function isCrossSite(req: IncomingMessage): boolean {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = header(req, 'origin');
  if (origin === undefined) return false;
  // Sandboxed frames and some redirects send the literal "null".
  if (origin === 'null') return true;
  // The page's own origin is `http://<Host>`, or `https://<Host>` behind a TLS front end (the console on
  // App Runner shares this check through src/dashboard/security.ts).
  const host = header(req, 'host')?.toLowerCase();
  const o = origin.toLowerCase();
  return host === undefined || (o !== `http://${host}` && o !== `https://${host}`);
}

/**
 * True when the host name of a `Host` header is one of `names`: exact names, or `*.<suffix>` for any name
 * under it (App Runner's service URLs, `<id>.<region>.awsapprunner.com`, are known only after the service
 * exists, so a list cannot name them).
 */
export function hostInList(hostHeader: string, names: readonly string[]): boolean {
  const name = hostName(hostHeader.toLowerCase());
  return names.some((n) => {
    const entry = n.toLowerCase();
    if (entry.startsWith('*.')) return name.endsWith(entry.slice(1)) && name.length > entry.length - 1;
    return hostName(entry) === name;
  });
}

/** A GET that opens a page in the browser's window (a link followed); the other site never sees the answer. */
function isTopLevelNavigation(req: IncomingMessage): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    header(req, 'sec-fetch-mode') === 'navigate' &&
    header(req, 'sec-fetch-dest') === 'document'
  );
}

export type Refusal = { kind: 'host'; message: string } | { kind: 'cross-site'; message: string };

/** Why the engine refuses a request before routing it, or undefined when it may be routed. */
export function refusalOf(req: IncomingMessage): Refusal | undefined {
  if (!isLoopbackHost(req)) {
    return {
      kind: 'host',
      message: `berth dev answers only to 127.0.0.1 and localhost, not to Host: ${header(req, 'host') ?? '(none)'}`,
    };
  }
  if (isCrossSite(req) && !isTopLevelNavigation(req)) {
    return {
      kind: 'cross-site',
      message: 'cross-site request refused: berth dev answers only its own pages',
    };
  }
  return undefined;
}
