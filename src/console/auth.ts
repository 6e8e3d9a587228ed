/**
 * Sign-in in front of the console when it is served beyond 127.0.0.1 (App Runner, src/console/appRunner.ts).
 * The dashboard's own checks stay behind it (Host, cross-site, the per-start `X-Berth-Token` of actions);
 * this adds what a loopback server never needed: nobody reads a page, the JSON API or a log without the
 * console token.
 *
 * Why a token, and this scheme (docs/dashboard.md says the same for users):
 * - App Runner has no sign-in of its own (no load balancer or Cognito in front of it), so the console does it.
 * - The token is a Secrets Manager secret CloudFormation generates (48 letters and digits, ≈285 bits): no
 *   guessing attack can find it, and only people whose IAM may read that secret can sign in, so who may open
 *   the console is decided where the rest of the stage's access is, in IAM. Rotating the secret (and
 *   redeploying) signs everyone out.
 * - Signing in posts the token once; the browser then holds a session cookie (`HttpOnly`, `Secure`,
 *   `SameSite=Strict`, 12 hours) that is an HMAC of the issue time under a key derived from the token. The
 *   token itself is never stored in the browser or in a page.
 * - Scripts may send `Authorization: Bearer <token>` instead.
 * - `GET /healthz` answers `ok` without sign-in, and nothing else does: App Runner's health check needs it.
 * - Static assets (`/assets/*`, the same files as in the npm package) are served without sign-in so the
 *   sign-in page can be styled by nothing but its own hashed inline style.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostInList } from '../dashboard/security.js';

export const SESSION_COOKIE = 'berth_console';
/** How long a sign-in lasts. */
export const SESSION_SECONDS = 12 * 3600;
export const HEALTH_PATH = '/healthz';
export const LOGIN_PATH = '/login';
export const LOGOUT_PATH = '/logout';
/** Largest sign-in form body read. */
const MAX_FORM_BYTES = 4096;

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface ConsoleAuthOptions {
  /** The sign-in token (App Runner: the `BERTH_CONSOLE_TOKEN` secret). At least 32 characters. */
  token: string;
  /**
   * Host names the console answers to: exact names, or `*.<suffix>` for any name under it (App Runner's
   * service URLs are `<id>.<region>.awsapprunner.com`, not known before the service exists). Other `Host`
   * headers get 403 (DNS rebinding). Empty: any host.
   */
  allowedHosts?: readonly string[];
  /** Mark the cookie `Secure` (App Runner serves HTTPS only). @default true */
  secureCookie?: boolean;
  /** Clock in ms, for tests. */
  now?: () => number;
}

const STYLE =
  'body{font:16px system-ui,sans-serif;max-width:28rem;margin:10vh auto;padding:0 1rem;color:#1b1f24}' +
  'input{font:inherit;width:100%;box-sizing:border-box;padding:.5rem;margin:.5rem 0}' +
  'button{font:inherit;padding:.5rem 1rem}.error{color:#b3261e}';
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');
const LOGIN_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${STYLE_HASH}'`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');
const HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Strict-Transport-Security': 'max-age=31536000',
};

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Only a path on this server: `/runs?x`, never `//evil.example` or `https://…`. */
function safeNext(next: string | null | undefined): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}

export function hostAllowed(hostHeader: string | undefined, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  return hostHeader !== undefined && hostInList(hostHeader, allowed);
}

function loginPage(next: string, error?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Sign in · berth console</title><style>${STYLE}</style></head><body><main><h1>berth console</h1><p>Sign in with the console token: <code>aws secretsmanager get-secret-value --secret-id &lt;BerthConsoleTokenSecretArn&gt;</code> (a stack output).</p>${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}<form method="post" action="${LOGIN_PATH}"><label for="token">Console token</label><input id="token" name="token" type="password" autocomplete="current-password" required autofocus><input type="hidden" name="next" value="${escapeHtml(next)}"><button type="submit">Sign in</button></form></main></body></html>`;
}

function sendLogin(res: ServerResponse, status: number, next: string, error?: string): void {
  const body = loginPage(next, error);
  res.writeHead(status, {
    ...HEADERS,
    'Content-Security-Policy': LOGIN_CSP,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    ...extra,
  });
  res.end(text);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const type = header(req, 'content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * A POST another site's page sent. `Sec-Fetch-Site` decides when the browser sends it: a form POST under
 * `Referrer-Policy: no-referrer` (these pages) carries `Origin: null` even from this very page. Older browsers:
 * the `Origin` must be this host's.
 */
function crossSite(req: IncomingMessage): boolean {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = header(req, 'origin');
  if (origin === undefined) return false;
  const host = header(req, 'host')?.toLowerCase();
  const o = origin.toLowerCase();
  return host === undefined || (o !== `https://${host}` && o !== `http://${host}`);
}

/**
 * Wraps a console request handler with sign-in. Use it as `startConsole({ wrap: consoleAuth({ token }) })`.
 */
export function consoleAuth(options: ConsoleAuthOptions): (handler: RequestHandler) => RequestHandler {
  if (options.token.length < 32)
    throw new Error(
      'console token: shorter than 32 characters — use the generated BERTH_CONSOLE_TOKEN secret',
    );
  const token = options.token;
  const key = createHash('sha256').update(`berth-console-session\0${token}`).digest();
  const now = options.now ?? Date.now;
  const allowed = options.allowedHosts ?? [];
  const secure = options.secureCookie ?? true;

  const sign = (issued: number) => createHmac('sha256', key).update(`v1.${issued}`).digest('hex');
  const cookieValue = (issued: number) => `v1.${issued}.${sign(issued)}`;
  const cookie = (value: string, maxAge: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;

  const validSession = (req: IncomingMessage): boolean => {
    const raw = header(req, 'cookie');
    if (!raw) return false;
    for (const part of raw.split(';')) {
      const [name, ...rest] = part.trim().split('=');
      if (name !== SESSION_COOKIE) continue;
      const m = /^v1\.(\d{1,12})\.([0-9a-f]{64})$/.exec(rest.join('='));
      if (!m) continue;
      const issued = Number(m[1]);
      const age = Math.floor(now() / 1000) - issued;
      if (age < -60 || age > SESSION_SECONDS) continue;
      if (equal(m[2]!, sign(issued))) return true;
    }
    return false;
  };
  const validBearer = (req: IncomingMessage): boolean => {
    const auth = header(req, 'authorization');
    return auth?.startsWith('Bearer ') === true && equal(auth.slice(7).trim(), token);
  };

  return (handler) => async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://console');
    if (url.pathname === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD'))
      return sendText(res, 200, 'ok\n');
    if (!hostAllowed(header(req, 'host'), allowed))
      return sendText(res, 403, `the console does not answer to Host: ${header(req, 'host') ?? '(none)'}\n`);

    if (url.pathname === LOGIN_PATH) {
      if (req.method === 'GET') return sendLogin(res, 200, safeNext(url.searchParams.get('next')));
      if (req.method !== 'POST') return sendText(res, 405, 'use GET or POST\n', { Allow: 'GET, POST' });
      if (crossSite(req)) return sendText(res, 403, 'cross-site sign-in refused\n');
      const form = await readForm(req);
      const next = safeNext(form?.get('next'));
      const given = form?.get('token')?.trim() ?? '';
      if (!given || !equal(given, token)) return sendLogin(res, 401, next, 'That is not the console token.');
      res.writeHead(303, {
        ...HEADERS,
        Location: next,
        'Set-Cookie': cookie(cookieValue(Math.floor(now() / 1000)), SESSION_SECONDS),
      });
      res.end();
      return;
    }
    if (url.pathname === LOGOUT_PATH && req.method === 'POST') {
      if (crossSite(req)) return sendText(res, 403, 'cross-site sign-out refused\n');
      res.writeHead(303, { ...HEADERS, Location: LOGIN_PATH, 'Set-Cookie': cookie('', 0) });
      res.end();
      return;
    }
    if (url.pathname.startsWith('/assets/') && req.method === 'GET') return handler(req, res);
    if (validSession(req) || validBearer(req)) return handler(req, res);

    const accept = header(req, 'accept') ?? '';
    if ((req.method === 'GET' || req.method === 'HEAD') && accept.includes('text/html')) {
      res.writeHead(303, {
        ...HEADERS,
        Location: `${LOGIN_PATH}?next=${encodeURIComponent(url.pathname + url.search)}`,
      });
      res.end();
      return;
    }
    return sendText(res, 401, `sign in first: ${LOGIN_PATH}\n`, {
      'WWW-Authenticate': 'Bearer realm="berth console"',
    });
  };
}
