/**
 * The App Runner entry (startAppRunnerConsole: the environment the service sets, the jobs from the manifest,
 * the sign-in in front) against moto, driven in Chromium at http://localhost (a secure context, so the
 * `Secure` session cookie is kept as on App Runner's HTTPS). A run is seeded through the real launcher code
 * path. Checks: every page sends the browser to the sign-in; a wrong token is refused; the right one opens
 * the jobs table and the run page; Replay behind the sign-in puts its message on the launch queue (the
 * page's actions carry both the cookie and the per-start token); without the cookie, or signed out, the
 * pages are closed again; the JSON API answers 401 to a request without either.
 */
import { request } from 'node:http';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_ENV } from '../../src/compiler/appRunner.js';
import { EXTRA_HOSTS_ENV, startAppRunnerConsole } from '../../src/console/appRunner.js';
import type { RunningConsole } from '../../src/console/server.js';
import type { Job } from '../../src/core/model/job.js';
import type { AwsRuntimeConfig } from '../../src/runtime/aws/config.js';
import { handleLaunchBatch } from '../../src/runtime/aws/launcher.js';
import { type AwsRuntime, createAwsRuntime } from '../../src/runtime/aws/runtime.js';
import type { RunRecord } from '../../src/runtime/ports.js';
import { launchChromium } from '../dashboard/harness.js';
import type { MotoServer } from '../runtime/aws/motoServer.js';
import { REGION, sqsRecord, startMotoStack } from '../runtime/aws/motoStack.js';
import { job, manifest } from '../runtime/aws/support.js';

const TOKEN = 'e2eT0kene2eT0kene2eT0kene2eT0kene2eT0kene2eT0ken';
const JOBS: Job[] = [
  job({ name: 'report', task: { image: 'node:22' } }),
  job({
    name: 'nightly',
    task: { image: 'node:22' },
    trigger: { schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Asia/Seoul' } },
  }),
];

let moto: MotoServer;
let cfg: AwsRuntimeConfig;
let sqs: SQSClient;
let rt: AwsRuntime;
let running: RunningConsole;
let base: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let run: RunRecord;

beforeAll(async () => {
  let opts: { region: string; endpoint: string };
  ({ moto, cfg, sqs, opts } = await startMotoStack({ name: 'apprunner-test', jobs: JOBS }));
  // The image carries the manifest as this global (src/console/image.ts); the launcher reads the same one.
  globalThis.__BERTH_MANIFEST__ = manifest(JOBS);
  rt = createAwsRuntime(cfg, manifest(JOBS), {});
  const event: SQSEvent = {
    Records: [
      sqsRecord(
        JSON.stringify({ type: 'invoke', job: 'report', requestId: 'req-1', payload: { n: 1 } }),
        'm-1',
        'rh',
        cfg.launchQueueArn,
      ),
    ],
  };
  expect((await handleLaunchBatch(rt, event)).batchItemFailures).toEqual([]);
  run = (await rt.store.listRuns({ job: 'report', limit: 5 }))[0]!;
  expect(run).toBeDefined();

  running = await startAppRunnerConsole({
    host: '127.0.0.1',
    endpoint: opts.endpoint,
    env: {
      PORT: '0',
      [EXTRA_HOSTS_ENV]: 'localhost',
      [CONSOLE_ENV.service]: 'berth-demo',
      [CONSOLE_ENV.stage]: 'test',
      [CONSOLE_ENV.region]: REGION,
      [CONSOLE_ENV.token]: TOKEN,
      [CONSOLE_ENV.runsTable]: cfg.runsTable,
      [CONSOLE_ENV.launchQueueUrl]: cfg.launchQueueUrl,
      [CONSOLE_ENV.cluster]: cfg.cluster,
    },
  });
  base = `http://localhost:${running.port}/`;
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await running?.close();
  await moto?.stop();
  globalThis.__BERTH_MANIFEST__ = undefined;
}, 30_000);

function status(path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: running.port, path, headers: { host: 'localhost', ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function signIn(token: string): Promise<void> {
  await page.locator('#token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
}

describe('the App Runner console behind its sign-in, in Chromium', () => {
  it('sends every page to the sign-in and refuses a wrong token', async () => {
    await page.goto(`${base}runs/${run.runId}`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe(`/runs/${run.runId}`);
    await expect(page.getByRole('heading', { name: 'berth console' }).isVisible()).resolves.toBe(true);
    await signIn(`${TOKEN.slice(0, -1)}x`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not the console token');
    expect(await context.cookies()).toEqual([]);
    expect(await status('/api/runs')).toBe(401);
  });

  it('opens the page asked for with the right token, with a Secure HttpOnly session cookie', async () => {
    await signIn(TOKEN);
    expect(new URL(page.url()).pathname).toBe(`/runs/${run.runId}`);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'berth_console', httpOnly: true, secure: true, sameSite: 'Strict' });
    expect(cookie!.value).not.toContain(TOKEN);
    await page.goto(base);
    await expect(page.getByRole('button', { name: 'Sign out' }).isVisible()).resolves.toBe(true);
    for (const name of ['report', 'nightly'])
      await expect(page.getByText(name).first().isVisible()).resolves.toBe(true);
  });

  it('Replay behind the sign-in puts a replay message on the launch queue', async () => {
    await page.goto(`${base}runs/${run.runId}`);
    await page.locator(`[data-post="/api/runs/${run.runId}/replay"]`).click();
    const deadline = Date.now() + 20_000;
    let bodies: Record<string, unknown>[] = [];
    while (bodies.length === 0 && Date.now() < deadline) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: cfg.launchQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      bodies = (out.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}') as Record<string, unknown>);
    }
    expect(bodies).toEqual([
      { type: 'replay', job: 'report', runId: run.runId, requestId: expect.any(String) },
    ]);
  });

  it('closes the pages again without the cookie, and after signing out', async () => {
    const cookies = await context.cookies();
    await context.clearCookies();
    await page.goto(base);
    expect(new URL(page.url()).pathname).toBe('/login');
    await context.addCookies(cookies);
    await page.goto(base);
    expect(new URL(page.url()).pathname).toBe('/');
    // The header's Sign out button: back to the sign-in, and the cookie is gone.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    expect(await context.cookies()).toEqual([]);
    await page.goto(base);
    expect(new URL(page.url()).pathname).toBe('/login');
  });
});
