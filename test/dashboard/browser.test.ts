/**
 * End to end in a real browser: Debian's chromium (never a downloaded one) driven by playwright-core,
 * against a real `berth dev` process on a temporary project. Screenshots of the three views go to
 * test-results/dashboard/ (git-ignored).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDirect } from '../../src/runtime/local/direct.js';
import { devPaths } from '../../src/runtime/local/paths.js';
import { dlqName, jobQueueName } from '../../src/runtime/local/queue.js';
import { jobFile, makeProject, REPO_ROOT, removeProject, validJob } from '../loader/tmpProject.js';
import { freePort, sqsCall } from '../runtime/local/harness.js';
import { CHROMIUM, launchChromium, raw } from './harness.js';

const SHOTS = join(REPO_ROOT, 'test-results', 'dashboard');
const XSS_NOTE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch {
      // not ready yet
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let root: string;
let dev: ChildProcess;
let devOutput = '';
let port: number;
let base: string;
let browser: Browser;
let page: Page;
let crossSite: Server;
const pageErrors: string[] = [];

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  root = makeProject('dashboard-e2e', {
    'jobs/thumbnail.ts': readFileSync(join(REPO_ROOT, 'jobs/thumbnail.ts'), 'utf8'),
    'tasks/thumbnail.mjs': readFileSync(join(REPO_ROOT, 'tasks/thumbnail.mjs'), 'utf8'),
    'jobs/email-sender.ts': readFileSync(join(REPO_ROOT, 'jobs/email-sender.ts'), 'utf8'),
    'tasks/email-sender.mjs': readFileSync(join(REPO_ROOT, 'tasks/email-sender.mjs'), 'utf8'),
    'jobs/flaky.ts': jobFile(
      validJob('flaky', {
        description: 'Fails on purpose, to show retries',
        task: {
          image: 'public.ecr.aws/docker/library/node:22-alpine',
          local: { command: ['node', 'tasks/flaky.mjs'] },
        },
        retry: { maxAttempts: 2, backoff: { minDelay: '500ms', maxDelay: '500ms', jitter: 0 } },
      }),
    ),
    'tasks/flaky.mjs': `console.log('[flaky] attempt', process.env.BERTH_ATTEMPT);\nconsole.error('[flaky] something broke');\nprocess.exit(3);\n`,
    'jobs/slow.ts': jobFile(
      validJob('slow', {
        description: 'Prints a line every 200 ms for a minute',
        task: {
          image: 'public.ecr.aws/docker/library/node:22-alpine',
          local: { command: ['node', 'tasks/slow.mjs'] },
        },
        retry: { maxAttempts: 1 },
      }),
    ),
    'tasks/slow.mjs': `let i = 0;\nsetInterval(() => console.log('[slow] tick', ++i), 200);\nsetTimeout(() => process.exit(0), 60000);\n`,
  });
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dev = spawn(
    process.execPath,
    [join(REPO_ROOT, 'bin/berth.js'), 'dev', '-C', root, '--port', String(port), '--plain'],
    {
      cwd: root,
      env: { ...process.env, CI: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  dev.stdout?.on('data', (c: Buffer) => {
    devOutput += c.toString();
  });
  dev.stderr?.on('data', (c: Buffer) => {
    devOutput += c.toString();
  });
  await waitFor(
    `berth dev to serve the dashboard on ${base}`,
    async () => {
      if (dev.exitCode !== null) throw new Error(`berth dev exited:\n${devOutput}`);
      const res = await fetch(`${base}/assets/dashboard.css`);
      return res.ok ? true : undefined;
    },
    60_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${devOutput}`);
  });

  // A page on another site (localhost is another site than 127.0.0.1) that tries the dashboard.
  crossSite = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>elsewhere</title><p>another site</p>');
  });
  await new Promise<void>((resolve) => crossSite.listen(0, '127.0.0.1', resolve));

  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  page.on('dialog', (d) => {
    // Cancel asks first (scan.e2e.test.ts checks that dismissing it does nothing); here it is confirmed.
    if (d.message().startsWith('Cancel run ') || d.message().startsWith('Move ')) {
      void d.accept();
      return;
    }
    pageErrors.push(`unexpected dialog: ${d.message()}`);
    void d.dismiss();
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (crossSite ? crossSite.close(() => resolve()) : resolve()));
  if (dev && dev.exitCode === null) {
    const exited = new Promise<void>((resolve) => dev.once('exit', () => resolve()));
    dev.kill('SIGTERM');
    const timer = setTimeout(() => dev.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  if (root) removeProject(root);
}, 30_000);

function runRowFor(key: string) {
  return page.locator('#run-rows tr', { hasText: key });
}

describe('dashboard on a real berth dev', () => {
  it('shows a run live, its log, and a replay', async () => {
    await page.goto(`${base}/runs`);
    await expect.poll(() => page.getAttribute('#live-state', 'data-state')).toBe('live');
    // A marker that a reload would wipe: the row must arrive over SSE.
    await page.evaluate(() => {
      (window as unknown as { __noReload: boolean }).__noReload = true;
    });

    const dropped = join(root, '.berth/buckets/uploads/images/x.jpg');
    mkdirSync(join(root, '.berth/buckets/uploads/images'), { recursive: true });
    writeFileSync(dropped, 'not really a jpeg');

    const row = runRowFor('s3://uploads/images/x.jpg');
    await row.first().waitFor({ timeout: 20_000 });
    await expect.poll(() => row.first().getAttribute('data-status'), { timeout: 20_000 }).toBe('succeeded');
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    // The duration bar was scaled by the script (the CSP forbids style attributes in markup).
    expect(
      await row
        .first()
        .locator('.bar .fill')
        .evaluate((el) => (el as HTMLElement).style.width),
    ).toMatch(/%$/);

    const runId = await row.first().getAttribute('data-run-id');
    expect(runId).toMatch(/^r[0-9a-z]{20}$/);
    await row.first().locator('a').click();
    await page.waitForURL(`${base}/runs/${runId}`);
    await expect
      .poll(() => page.locator('#log-1 pre').textContent(), { timeout: 10_000 })
      .toContain('[thumbnail] done');
    expect(await page.locator('pre.payload').textContent()).toContain('"key": "images/x.jpg"');
    expect(await page.locator('table.attempts tbody tr').count()).toBe(1);

    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    const link = page.locator('#announce a');
    await link.waitFor({ timeout: 10_000 });
    const replayId = await link.textContent();
    expect(replayId).toMatch(/^r[0-9a-z]{20}$/);
    expect(replayId).not.toBe(runId);
    await link.click();
    await page.waitForURL(`${base}/runs/${replayId}`);
    await expect
      .poll(() => page.locator('#log-1 pre').textContent(), { timeout: 20_000 })
      .toContain('[thumbnail] done');
    expect(await page.locator('pre.payload').textContent()).toContain('"key": "images/x.jpg"');
    // The replay names the run it replays, and that run names its replay.
    const replayOf = page.locator('#run-live [data-field="replay-of"] a');
    expect(await replayOf.textContent()).toBe(runId);
    expect(await replayOf.getAttribute('href')).toBe(`/runs/${runId}`);
    await replayOf.click();
    await page.waitForURL(`${base}/runs/${runId}`);
    const replayedAs = page.locator('#run-live [data-field="replayed-as"] a');
    expect(await replayedAs.allTextContents()).toEqual([replayId]);
    expect(await replayedAs.getAttribute('href')).toBe(`/runs/${replayId}`);
    expect(await page.locator('#run-live [data-field="replay-of"]').count()).toBe(0);

    await page.goto(`${base}/runs?search=${encodeURIComponent('images/x.jpg')}`);
    expect(await runRowFor('s3://uploads/images/x.jpg').count()).toBe(2);
  }, 90_000);

  it('tails a running log live and cancels the running attempt', async () => {
    await page.goto(`${base}/jobs/slow`);
    await expect.poll(() => page.getAttribute('#live-state', 'data-state')).toBe('live');
    // No runs yet: the recent-runs table waits hidden, and the first run arrives in it without a reload.
    expect(await page.locator('[data-runs-table]').isHidden()).toBe(true);
    await page.evaluate(() => {
      (window as unknown as { __noReload: boolean }).__noReload = true;
    });
    await page.getByRole('button', { name: 'Run now' }).click();
    const link = page.locator('#announce a');
    await link.waitFor({ timeout: 10_000 });
    const recent = page.locator(`#run-rows tr[data-run-id="${await link.textContent()}"]`);
    await expect.poll(() => recent.getAttribute('data-status'), { timeout: 10_000 }).toBe('running');
    expect(await page.locator('[data-runs-table]').isVisible()).toBe(true);
    expect(await page.locator('#runs-empty').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    await link.click();
    await page.waitForURL(/\/runs\/r[0-9a-z]{20}$/);
    // The log grows while the page is open.
    await expect
      .poll(() => page.locator('#log-1 pre').textContent(), { timeout: 15_000 })
      .toContain('[slow] tick 3');
    await expect
      .poll(() => page.locator('#log-1 pre').textContent(), { timeout: 15_000 })
      .toContain('[slow] tick 6');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect
      .poll(() => page.locator('#run-live [data-field="status"]').textContent(), { timeout: 20_000 })
      .toContain('cancelled');
    expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
    // The log says why the output stops: berth's own line, set apart from the task's.
    const stopLine = page.locator('#log-1 pre .ln[data-stream="berth"]', { hasText: 'sent SIGTERM' });
    await expect
      .poll(() => stopLine.textContent(), { timeout: 10_000 })
      .toBe('berth: sent SIGTERM (cancelled from the dashboard)');
  }, 60_000);

  it('shows retries on the timeline and replays all failed runs of a job', async () => {
    await page.goto(`${base}/jobs/flaky`);
    // No failed run yet: no "Replay failed runs".
    expect(await page.getByRole('button', { name: /^Replay \d+ failed run/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'Run now' }).click();
    const link = page.locator('#announce a');
    await link.waitFor({ timeout: 10_000 });
    await link.click();
    // Attempt 2 appears live after the retry delay; then the run fails for good.
    await expect.poll(() => page.locator('table.attempts tbody tr').count(), { timeout: 20_000 }).toBe(2);
    await expect
      .poll(() => page.locator('#run-live [data-field="status"]').textContent(), { timeout: 20_000 })
      .toContain('failed');
    await expect
      .poll(() => page.locator('#log-2 pre').textContent(), { timeout: 10_000 })
      .toContain('something broke');
    // What the task wrote to stderr stands apart from its stdout.
    expect(await page.locator('#log-2 pre .ln[data-stream="stderr"]').allTextContents()).toEqual([
      '[flaky] something broke',
    ]);
    expect(await page.locator('#log-2 pre .ln[data-stream="stdout"]').allTextContents()).toEqual([
      '[flaky] attempt 2',
    ]);
    expect(await page.locator('table.attempts tbody tr').first().textContent()).toContain('app_error');
    expect(await page.locator('svg.timeline rect[class^="outcome-"]').count()).toBe(2);
    await page.screenshot({ path: join(SHOTS, 'run.png'), fullPage: true });

    // "Replay failed runs" is the job's action, on its page, now that it has a failed run.
    await page.getByRole('link', { name: 'flaky' }).first().click();
    await page.waitForURL(`${base}/jobs/flaky`);
    await page.getByRole('button', { name: 'Replay 1 failed run' }).click();
    await expect
      .poll(() => page.locator('#announce').textContent(), { timeout: 10_000 })
      .toContain('Replayed 1 failed run.');
  }, 60_000);

  it('charts the worker count of a service-mode job and follows it live', async () => {
    await page.goto(`${base}/jobs/email-sender`);
    await expect.poll(() => page.getAttribute('#live-state', 'data-state')).toBe('live');
    const fleet = page.locator('[data-job-workers="email-sender"]');
    const chart = fleet.getByRole('img', { name: /^Workers of email-sender over the last/ });
    await chart.waitFor({ timeout: 10_000 });
    // minTasks 0: no messages, no workers.
    expect(await fleet.locator('[data-stat="workers"]').textContent()).toBe('0');
    expect(await fleet.locator('[data-stat="worker-range"]').textContent()).toBe('0–10');
    expect(await chart.locator('title').textContent()).toContain('0 now, steady at 0 workers');

    // Three emails through the engine's SQS endpoint: one worker (20 messages per worker) starts.
    for (let i = 0; i < 3; i++) {
      // Signed with the credential berth dev wrote to .berth/credentials, like any SQS client's call.
      const sent = await sqsCall(base, root, 'SendMessage', {
        QueueUrl: `${base}/123456789012/email-sender`,
        MessageBody: JSON.stringify({ to: `user${i}@example.com`, subject: `hello ${i}` }),
      });
      expect(sent.status, await sent.clone().text()).toBe(200);
    }
    // The page is not reloaded: the new count and chart arrive over server-sent events.
    await expect
      .poll(() => fleet.locator('[data-stat="workers"]').textContent(), { timeout: 15_000 })
      .toBe('1');
    expect(await chart.locator('title').textContent()).toMatch(/1 now, between 0 and 1 worker/);
    expect(await chart.locator('path.line').getAttribute('d')).toMatch(/^M\S+ \S+ H\S+ V\S+ H240$/);
    await fleet.screenshot({ path: join(SHOTS, 'workers.png') });
  }, 60_000);

  it('moves a job queue’s dead letters back from the job page, after a confirmation', async () => {
    const queue = jobQueueName('email-sender');
    // Two messages in email-sender's dead-letter queue, where the engine moves one received too often.
    const handle = openDirect(devPaths(root));
    try {
      for (const to of ['dead1@example.com', 'dead2@example.com'])
        handle.queues.send(dlqName(queue), JSON.stringify({ to, subject: 'dead letter' }));
    } finally {
      handle.close();
    }
    await page.goto(`${base}/jobs/thumbnail`);
    expect(await page.locator('[data-post$="/redrive"]').count()).toBe(0);
    await page.goto(`${base}/jobs/email-sender`);
    const button = page.getByRole('button', { name: 'Redrive 2 dead letters' });
    await button.waitFor({ timeout: 10_000 });
    await button.click();
    await expect
      .poll(() => page.locator('#announce').textContent(), { timeout: 10_000 })
      .toContain('Moved 2 dead-letter messages back to the queue.');
    expect(await page.locator('[data-post="/api/jobs/email-sender/redrive"]').count()).toBe(0);
    const after = openDirect(devPaths(root));
    try {
      expect(after.queues.stats(queue).deadLetter).toBe(0);
    } finally {
      after.close();
    }
    await page.reload();
    expect(await page.locator('[data-post="/api/jobs/email-sender/redrive"]').count()).toBe(0);
  }, 60_000);

  it('escapes a Run now payload holding markup', async () => {
    await page.goto(`${base}/`);
    await page.screenshot({ path: join(SHOTS, 'jobs.png'), fullPage: true });
    await page.getByRole('link', { name: 'thumbnail', exact: true }).click();
    await page.waitForURL(`${base}/jobs/thumbnail`);
    const card = page.locator('main');
    await card.getByLabel('Payload for thumbnail (JSON, optional)').fill('{ not json');
    await card.getByRole('button', { name: 'Run now' }).click();
    await expect.poll(() => card.locator('.field-error').textContent()).toContain('Not JSON');
    expect(await card.locator('textarea').getAttribute('aria-invalid')).toBe('true');

    await card.getByLabel('Payload for thumbnail (JSON, optional)').fill(JSON.stringify({ note: XSS_NOTE }));
    await card.getByRole('button', { name: 'Run now' }).click();
    const link = page.locator('#announce a');
    await link.waitFor({ timeout: 10_000 });
    await link.click();
    await page.waitForURL(/\/runs\/r[0-9a-z]{20}$/);
    const shown = await page.locator('pre.payload').textContent();
    expect(shown).toContain('<script>window.__pwned = 1</script>');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('pre.payload script, pre.payload img').count()).toBe(0);
  }, 60_000);

  it('Run now for an object key gives the S3-triggered job an S3-shaped trigger; a missing object says how to fix it', async () => {
    await page.goto(`${base}/jobs/thumbnail`);
    const card = page.locator('main');
    // The object the first test dropped into the bucket folder.
    expect(existsSync(join(root, '.berth/buckets/uploads/images/x.jpg'))).toBe(true);
    await card.getByLabel('Object key (optional: run as if it had been written)').fill('images/none.jpg');
    await card.getByRole('button', { name: 'Run now' }).click();
    await expect
      .poll(() => page.locator('#announce').textContent(), { timeout: 10_000 })
      .toContain('berth put uploads <file> --key images/none.jpg');
    await card.getByLabel('Object key (optional: run as if it had been written)').fill('images/x.jpg');
    expect(await card.getByLabel('Bucket').inputValue()).toBe('uploads');
    await card.getByRole('button', { name: 'Run now' }).click();
    const link = page.locator('#announce a');
    await link.waitFor({ timeout: 10_000 });
    await link.click();
    await page.waitForURL(/\/runs\/r[0-9a-z]{20}$/);
    const shown = (await page.locator('pre.payload').textContent()) ?? '';
    expect(shown).toContain('"kind": "s3"');
    expect(shown).toContain('"bucket": "uploads"');
    expect(shown).toContain('"key": "images/x.jpg"');
    await expect
      .poll(() => page.locator('#log-1 pre').textContent(), { timeout: 20_000 })
      .toContain('[thumbnail] done');
  }, 60_000);

  it('refuses a cross-site POST without the token, and keeps the token from other sites', async () => {
    const before = JSON.parse(
      (await raw(port, { path: '/api/runs?limit=500', headers: { host: `127.0.0.1:${port}` } })).body,
    ) as unknown[];
    const target = (before[0] as { runId: string }).runId;
    const evil = `http://localhost:${(crossSite.address() as AddressInfo).port}/`;
    const other = await browser.newPage();
    try {
      await other.goto(evil);
      // A form post: the browser follows it, so the answer is visible to the test.
      const answer = other.waitForResponse((r) => r.url().endsWith(`/api/runs/${target}/replay`));
      await other.evaluate((action) => {
        const form = document.createElement('form');
        form.method = 'POST';
        form.action = action;
        document.body.append(form);
        form.submit();
      }, `${base}/api/runs/${target}/replay`);
      expect((await answer).status()).toBe(403);
      await other.waitForURL(`${base}/api/runs/${target}/replay`);

      await other.goto(evil);
      // The POST reaches the server (which answers 403: the run count below does not move); the browser
      // then hides the answer from the page because of Cross-Origin-Resource-Policy.
      const invokeAnswer = other.waitForEvent('requestfailed', (r) =>
        r.url().endsWith('/api/jobs/thumbnail/invoke'),
      );
      const attempts = await other.evaluate(async (dashboard) => {
        const out: string[] = [];
        // A simple request is sent without a preflight; the server must refuse it, and the answer stays
        // opaque to the page (Cross-Origin-Resource-Policy makes the fetch reject).
        await fetch(`${dashboard}/api/jobs/thumbnail/invoke`, {
          method: 'POST',
          mode: 'no-cors',
          body: '{}',
        }).then(
          () => out.push('answer readable'),
          () => out.push('answer hidden'),
        );
        // Reading the page (and its token) needs CORS, which the server never grants.
        await fetch(`${dashboard}/`).then(
          async (r) => out.push(`read ${(await r.text()).length}`),
          () => out.push('read blocked'),
        );
        await fetch(`${dashboard}/api/jobs/thumbnail/invoke`, {
          method: 'POST',
          headers: { 'X-Berth-Token': 'guess', 'Content-Type': 'application/json' },
          body: '{}',
        }).then(
          () => out.push('token sent'),
          () => out.push('token blocked'),
        );
        return out;
      }, base);
      expect((await invokeAnswer).failure()?.errorText).toContain('ERR_BLOCKED_BY_RESPONSE');
      expect(attempts).toEqual(['answer hidden', 'read blocked', 'token blocked']);
    } finally {
      await other.close();
    }
    // Nothing was started by any of it.
    const after = JSON.parse(
      (await raw(port, { path: '/api/runs?limit=500', headers: { host: `127.0.0.1:${port}` } })).body,
    ) as unknown[];
    expect(after.length).toBe(before.length);
    // The same request as the browser sent it, read by the test: 403.
    const asBrowserSent = await raw(port, {
      method: 'POST',
      path: '/api/jobs/thumbnail/invoke',
      headers: {
        host: `127.0.0.1:${port}`,
        origin: evil.slice(0, -1),
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'no-cors',
        'content-type': 'text/plain;charset=UTF-8',
      },
      body: '{}',
    });
    expect(asBrowserSent.status).toBe(403);
    // Without the browser: no token and a foreign Origin → 403 too.
    const direct = await raw(port, {
      method: 'POST',
      path: `/api/runs/${target}/replay`,
      headers: { host: `127.0.0.1:${port}`, origin: 'https://evil.example' },
      body: '{}',
    });
    expect(direct.status).toBe(403);
    expect(pageErrors.filter((e) => !e.includes('Failed to load resource'))).toEqual([]);

    // The runs view after everything above: live, replayed, cancelled, retried and failed runs.
    await page.goto(`${base}/runs`);
    await expect.poll(() => page.getAttribute('#live-state', 'data-state')).toBe('live');
    await page.screenshot({ path: join(SHOTS, 'runs.png') });
  }, 60_000);
});
