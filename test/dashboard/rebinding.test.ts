/**
 * DNS rebinding in a real browser: Debian's chromium (playwright-core) resolves `evil.example` to 127.0.0.1
 * (`--host-resolver-rules`), as a rebinding attacker's DNS would after serving its page. The attacker's page
 * at http://evil.example:<port>/ is then same-origin with `berth dev`, so it may send any header; every route
 * must still refuse it (the Host names evil.example), and nothing it sends may run a job. Private Network
 * Access checks are switched off, as Firefox and Safari do not have them.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  type EngineProc,
  makeProject,
  QUEUE_AND_SERVICE_JOBS,
  runs,
  sql,
  sqsCall,
  startEngine,
} from '../runtime/local/harness.js';
import { CHROMIUM, launchChromium } from './harness.js';

const ATTACKER_PAGE = '<!doctype html><title>cute cats</title><p>nothing to see here</p>';

let dir: string;
let engine: EngineProc;
let browser: Browser;

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  dir = makeProject('rebinding', QUEUE_AND_SERVICE_JOBS);
  engine = await startEngine(dir);
  browser = await launchChromium([
    // The rebinding: the attacker's name now resolves to the loopback interface.
    '--host-resolver-rules=MAP evil.example 127.0.0.1',
    // Firefox and Safari have no Private Network Access checks; neither does this browser.
    '--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks',
  ]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await engine?.stop();
  if (dir) cleanup(dir);
});

interface Tried {
  what: string;
  status: number | string;
  body: string;
}

describe('a rebinding page in a real browser', () => {
  it('is refused by every route of berth dev: no message sent, no events read, no worker message taken', async () => {
    // Messages a worker could take: the page must not get them.
    const sent = await sqsCall(engine.url, dir, 'SendMessage', {
      QueueUrl: `${engine.url}/123456789012/mailer`,
      MessageBody: '{"secret":"m-secret"}',
    });
    expect(sent.status).toBe(200);
    const origin = `http://evil.example:${engine.port}`;
    const page = await browser.newPage();
    try {
      // The attacker's page, served "by the attacker" before the rebinding; everything else goes to the wire.
      await page.route(`${origin}/**`, (route) =>
        route.request().resourceType() === 'document'
          ? route.fulfill({ status: 200, contentType: 'text/html', body: ATTACKER_PAGE })
          : route.continue(),
      );
      await page.goto(`${origin}/`);
      expect(await page.title()).toBe('cute cats');
      const tried = await page.evaluate(async (origin): Promise<Tried[]> => {
        const sqs = (action: string, input: unknown) =>
          fetch('/', {
            method: 'POST',
            headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${action}` },
            body: JSON.stringify(input),
          });
        const attempts: [string, () => Promise<Response>][] = [
          [
            'SendMessage',
            () =>
              sqs('SendMessage', {
                QueueUrl: `${origin}/123456789012/orders`,
                MessageBody: '{"rebound":true}',
              }),
          ],
          [
            'ReceiveMessage',
            () =>
              sqs('ReceiveMessage', { QueueUrl: `${origin}/123456789012/mailer`, MaxNumberOfMessages: 10 }),
          ],
          ['GET /events', () => fetch('/events', { signal: AbortSignal.timeout(3000) })],
          ['GET /api/health', () => fetch('/api/health')],
          ['GET /api/workers', () => fetch('/api/workers')],
          ['GET /api/runs', () => fetch('/api/runs')],
          ['GET / (dashboard)', () => fetch('/')],
        ];
        const out: Tried[] = [];
        for (const [what, attempt] of attempts) {
          try {
            const res = await attempt();
            // An event stream answered 200 would never end: read what came within the timeout.
            const body = await res.text().catch((e) => `(stream cut: ${String(e)})`);
            out.push({ what, status: res.status, body: body.slice(0, 300) });
          } catch (error) {
            out.push({ what, status: `network error: ${String(error)}`, body: '' });
          }
        }
        return out;
      }, origin);
      // Every attempt reached berth dev (a 403, not a browser-side block) and was refused.
      for (const t of tried) {
        expect(t.status, `${t.what}: ${t.body}`).toBe(403);
        expect(t.body, t.what).toContain('berth dev answers only to 127.0.0.1 and localhost');
        expect(t.body, t.what).not.toContain('m-secret');
      }
      expect(JSON.parse(tried[0]?.body ?? '{}')).toMatchObject({ __type: 'com.amazonaws.sqs#AccessDenied' });
    } finally {
      await page.close();
    }
    // Nothing ran, the worker's message is still there and never received.
    await new Promise((r) => setTimeout(r, 300));
    expect(runs(dir, 'orders')).toEqual([]);
    expect(sql(dir, `SELECT receive_count FROM messages WHERE queue = 'job:mailer'`)).toEqual([
      { receive_count: 0 },
    ]);
    expect(sql(dir, `SELECT COUNT(*) AS n FROM messages WHERE queue = 'job:orders'`)).toEqual([{ n: 0 }]);
  }, 60_000);
});
