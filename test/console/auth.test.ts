/**
 * The console's sign-in (src/console/auth.ts) over a real HTTP server on 127.0.0.1: nothing but the health
 * check and the sign-in page answers without the token; a signed-in browser's cookie opens the pages until it
 * expires; a forged or expired cookie, a foreign Host, a cross-site sign-in and an open redirect are refused.
 */
import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleAuth, hostAllowed, SESSION_COOKIE, SESSION_SECONDS } from '../../src/console/auth.js';

const TOKEN = 'T0k3nT0k3nT0k3nT0k3nT0k3nT0k3nT0k3nT0k3nT0k3nABCD';
const HOST = 'abcdefgh12.eu-west-1.awsapprunner.com';
let clock = Date.UTC(2026, 10, 28, 12, 0, 0);
let server: Server;
let port: number;
let served = 0;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { host: HOST, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const form = (fields: Record<string, string>) => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

async function signIn(): Promise<string> {
  const f = form({ token: TOKEN, next: '/runs?job=nightly' });
  const r = await send('POST', '/login', { ...f.headers, origin: `https://${HOST}` }, f.body);
  expect(r.status).toBe(303);
  expect(r.headers.location).toBe('/runs?job=nightly');
  const setCookie = String(r.headers['set-cookie']);
  expect(setCookie).toMatch(/HttpOnly/);
  expect(setCookie).toMatch(/SameSite=Strict/);
  expect(setCookie).toMatch(/Secure/);
  expect(setCookie).not.toContain(TOKEN);
  return setCookie.split(';')[0]!;
}

beforeAll(async () => {
  const wrap = consoleAuth({ token: TOKEN, allowedHosts: ['*.awsapprunner.com'], now: () => clock });
  server = createServer(
    wrap((req, res) => {
      served++;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`page ${req.url}`);
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the console sign-in', () => {
  it('answers the health check without sign-in, and nothing else', async () => {
    const before = served;
    expect(await send('GET', '/healthz', { host: '10.0.3.7:8080' })).toMatchObject({
      status: 200,
      body: 'ok\n',
    });
    const page = await send('GET', '/', { accept: 'text/html' });
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login?next=%2F');
    const api = await send('GET', '/api/runs');
    expect(api.status).toBe(401);
    expect(api.headers['www-authenticate']).toBe('Bearer realm="berth console"');
    const action = await send('POST', '/api/runs/r1/replay', { 'x-berth-token': 'anything' });
    expect(action.status).toBe(401);
    const logs = await send('GET', '/api/runs/r1/attempts/1/log');
    expect(logs.status).toBe(401);
    expect(served).toBe(before);
  });

  it('shows a sign-in page whose only inline style is allowed by its CSP hash', async () => {
    const r = await send('GET', '/login?next=%2Fruns');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<form method="post" action="/login">');
    expect(r.body).toContain('value="/runs"');
    const style = /<style>([^<]*)<\/style>/.exec(r.body)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    expect(String(r.headers['content-security-policy'])).toContain(`style-src 'sha256-${hash}'`);
    expect(String(r.headers['content-security-policy'])).toContain("default-src 'none'");
  });

  it('refuses a wrong token without a cookie', async () => {
    const f = form({ token: `${TOKEN.slice(0, -1)}X`, next: '/' });
    const r = await send('POST', '/login', f.headers, f.body);
    expect(r.status).toBe(401);
    expect(r.headers['set-cookie']).toBeUndefined();
    expect(r.body).toContain('That is not the console token.');
  });

  it('lets a signed-in browser in until the session expires', async () => {
    const cookie = await signIn();
    const before = served;
    const r = await send('GET', '/runs?job=nightly', { cookie, accept: 'text/html' });
    expect(r).toMatchObject({ status: 200, body: 'page /runs?job=nightly' });
    expect((await send('POST', '/api/runs/r1/cancel', { cookie })).status).toBe(200);
    expect(served).toBe(before + 2);
    clock += (SESSION_SECONDS + 60) * 1000;
    try {
      expect((await send('GET', '/api/runs', { cookie })).status).toBe(401);
    } finally {
      clock -= (SESSION_SECONDS + 60) * 1000;
    }
  });

  it('refuses a forged or tampered cookie', async () => {
    const cookie = await signIn();
    const [, value] = cookie.split('=');
    const [v, issued, mac] = value!.split('.');
    const later = `${SESSION_COOKIE}=${v}.${Number(issued) + 3600}.${mac}`;
    expect((await send('GET', '/api/runs', { cookie: later })).status).toBe(401);
    const zeros = `${SESSION_COOKIE}=${v}.${issued}.${'0'.repeat(64)}`;
    expect((await send('GET', '/api/runs', { cookie: zeros })).status).toBe(401);
  });

  it('accepts the token as a bearer for scripts', async () => {
    expect((await send('GET', '/api/runs', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await send('GET', '/api/runs', { authorization: 'Bearer nope' })).status).toBe(401);
  });

  it('refuses a foreign Host, even signed in', async () => {
    const cookie = await signIn();
    const r = await send('GET', '/', { cookie, host: 'rebound.attacker.example' });
    expect(r.status).toBe(403);
    expect((await send('GET', '/login', { host: 'awsapprunner.com.attacker.example' })).status).toBe(403);
  });

  it("accepts the browser's own sign-in form, whose Origin is null under no-referrer", async () => {
    // Chromium sends `Origin: null` for a form POST from a page with Referrer-Policy: no-referrer.
    const f = form({ token: TOKEN, next: '/' });
    const own = await send(
      'POST',
      '/login',
      { ...f.headers, origin: 'null', 'sec-fetch-site': 'same-origin' },
      f.body,
    );
    expect(own.status).toBe(303);
    const cross = await send(
      'POST',
      '/login',
      { ...f.headers, origin: 'null', 'sec-fetch-site': 'cross-site' },
      f.body,
    );
    expect(cross.status).toBe(403);
  });

  it('refuses a cross-site sign-in and never redirects off the site', async () => {
    const f = form({ token: TOKEN, next: '/' });
    const cross = await send('POST', '/login', { ...f.headers, origin: 'https://attacker.example' }, f.body);
    expect(cross.status).toBe(403);
    const g = form({ token: TOKEN, next: '//attacker.example/x' });
    const r = await send('POST', '/login', g.headers, g.body);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/');
  });

  it('signs out', async () => {
    const r = await send('POST', '/logout', { cookie: await signIn() });
    expect(r.status).toBe(303);
    expect(String(r.headers['set-cookie'])).toMatch(new RegExp(`^${SESSION_COOKIE}=; .*Max-Age=0`));
  });
});

describe('hostAllowed', () => {
  it('matches exact names and *.suffix entries, ignoring the port and case', () => {
    expect(hostAllowed('ABC.eu-west-1.awsapprunner.com:443', ['*.awsapprunner.com'])).toBe(true);
    expect(hostAllowed('awsapprunner.com', ['*.awsapprunner.com'])).toBe(false);
    expect(hostAllowed('evilawsapprunner.com', ['*.awsapprunner.com'])).toBe(false);
    expect(hostAllowed('console.example.com', ['console.example.com'])).toBe(true);
    expect(hostAllowed(undefined, ['console.example.com'])).toBe(false);
  });

  it('refuses a short token at start', () => {
    expect(() => consoleAuth({ token: 'short' })).toThrow(/shorter than 32 characters/);
  });
});
