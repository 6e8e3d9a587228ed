/**
 * `berth console --stage test` against moto server, driven in Chromium. Runs are seeded through the real
 * launcher and interceptor code paths (handleLaunchBatch, handleTaskStateChange); the console is the real
 * binary (bin/berth.js → dist, `npm run build` first) started in a project folder with the same job files,
 * with AWS_ENDPOINT_URL pointing at moto and the BERTH_* overrides naming the stack's resources.
 * Checks: the runs appear, a log tail shows (CloudWatch Logs), Replay puts a `replay` message on the launch
 * queue (and the launcher turns it into a run that appears on the page without a reload), Cancel calls
 * StopTask, a foreign Host gets 403, and the job queue's depth and dead letters come from SQS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateServiceCommand, DescribeTasksCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNames } from '../../src/compiler/naming.js';
import { startConsole } from '../../src/console/server.js';
import type { Job, JobInput } from '../../src/core/model/job.js';
import type { AwsRuntimeConfig } from '../../src/runtime/aws/config.js';
import { handleTaskStateChange } from '../../src/runtime/aws/interceptor.js';
import { handleLaunchBatch } from '../../src/runtime/aws/launcher.js';
import { type AwsRuntime, createAwsRuntime } from '../../src/runtime/aws/runtime.js';
import type { RunRecord } from '../../src/runtime/ports.js';
import { launchChromium } from '../dashboard/harness.js';
import type { MotoServer } from '../runtime/aws/motoServer.js';
import { REGION, sqsRecord, startMotoStack, stoppedEvent, tasksOf } from '../runtime/aws/motoStack.js';
import { job, manifest } from '../runtime/aws/support.js';
import { BIN, cleanup, makeProject } from '../runtime/local/harness.js';

// support.ts's manifest is service berth-demo, stage test: the console derives the same names from them.
const SERVICE = 'berth-demo';
const STAGE = 'test';
const names = createNames(SERVICE, STAGE);
const quick: JobInput['retry'] = {
  maxAttempts: 1,
  backoff: { minDelay: '1s', maxDelay: '1s', factor: 1, jitter: 0 },
  rules: [],
};
const JOBS: Job[] = [
  job({ name: 'report', task: { image: 'node:22' }, retry: quick }),
  job({ name: 'orders', task: { image: 'node:22' }, trigger: { queue: {} } }),
  job({
    name: 'nightly',
    task: { image: 'node:22' },
    trigger: { schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Asia/Seoul' } },
  }),
];
/** The same jobs as files, for the console's project folder. */
const JOB_FILES = {
  report: `{ name: 'report', task: { image: 'node:22' }, retry: ${JSON.stringify(quick)} }`,
  orders: `{ name: 'orders', task: { image: 'node:22' }, trigger: { queue: {} } }`,
  nightly: `{ name: 'nightly', task: { image: 'node:22' }, trigger: { schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'Asia/Seoul' } } }`,
};

let moto: MotoServer;
let cfg: AwsRuntimeConfig;
let sqs: SQSClient;
let ecs: ECSClient;
let opts: { region: string; endpoint: string };
let rt: AwsRuntime;
let root: string;
let proc: ChildProcess | undefined;
let output = '';
let base = '';
let browser: Browser;
let page: Page;
let ordersUrl: string;
let ordersDlqUrl: string;
let done: RunRecord;
let running: RunRecord;
let failed: RunRecord;
let runningTask: Task;
const pageErrors: string[] = [];

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function launch(bodies: unknown[]): Promise<void> {
  const event: SQSEvent = {
    Records: bodies.map((b, i) =>
      sqsRecord(JSON.stringify(b), `m-${Date.now()}-${i}`, 'rh', cfg.launchQueueArn),
    ),
  };
  const result = await handleLaunchBatch(rt, event);
  expect(result.batchItemFailures).toEqual([]);
}

let version = 100;
function stopEvent(task: Task, exitCode: number | null, extra: Record<string, unknown> = {}) {
  return stoppedEvent(task, version++, {
    stoppedReason: 'Essential container in task exited',
    stopCode: 'EssentialContainerExited',
    containers: [{ name: 'main', lastStatus: 'STOPPED', ...(exitCode === null ? {} : { exitCode }) }],
    ...extra,
  });
}

async function invokeRun(requestId: string): Promise<{ run: RunRecord; task: Task }> {
  await launch([{ type: 'invoke', job: 'report', requestId, payload: { requestId } }]);
  const run = (await rt.store.listRuns({ job: 'report', limit: 50 })).find(
    (r) => r.trigger.kind === 'manual' && r.trigger.requestId === requestId,
  );
  if (!run) throw new Error(`no run for ${requestId}`);
  const [task] = await tasksOf(ecs, cfg.cluster, run.runId);
  if (!task) throw new Error(`no task for ${run.runId}`);
  return { run, task };
}

function raw(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function receiveLaunchMessages(): Promise<{ body: Record<string, unknown>; handle: string }[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: cfg.launchQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  return (out.Messages ?? []).map((m) => ({
    body: JSON.parse(m.Body ?? '{}') as Record<string, unknown>,
    handle: m.ReceiptHandle ?? '',
  }));
}

beforeAll(async () => {
  let stack: Awaited<ReturnType<typeof startMotoStack>>;
  ({ moto, cfg, sqs, ecs, opts } = stack = await startMotoStack({ name: 'console-test', jobs: JOBS }));
  void stack;
  rt = createAwsRuntime(cfg, manifest(JOBS), {});

  // The orders job's queue and its dead-letter queue, named as the compiler names them.
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: names.jobDeadLetterQueue('orders', false) }),
  );
  ordersDlqUrl = dlq.QueueUrl!;
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: ordersDlqUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  ordersUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: names.jobQueue('orders', false),
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }) },
      }),
    )
  ).QueueUrl!;
  for (const n of [1, 2])
    await sqs.send(new SendMessageCommand({ QueueUrl: ordersUrl, MessageBody: `{"order":${n}}` }));
  await sqs.send(new SendMessageCommand({ QueueUrl: ordersDlqUrl, MessageBody: '{"order":"poison"}' }));

  // A run that succeeded, with its log in CloudWatch where the compiler's names put it.
  const first = await invokeRun('req-done');
  const logs = new CloudWatchLogsClient(opts);
  const group = names.jobLogGroup('report');
  const stream = `report/main/${first.task.taskArn!.split('/').pop()}`;
  await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
  const t0 = Date.now() - 5000;
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: group,
      logStreamName: stream,
      logEvents: [
        { timestamp: t0, message: 'hello from the task' },
        { timestamp: t0 + 1, message: 'report <b>written</b>' },
      ],
    }),
  );
  await handleTaskStateChange(rt, stopEvent(first.task, 0));
  done = (await rt.store.getRun(first.run.runId))!;
  expect(done.status).toBe('succeeded');
  // A run that failed for good (maxAttempts 1): dead-lettered, to redrive.
  const third = await invokeRun('req-failed');
  await handleTaskStateChange(rt, stopEvent(third.task, 1));
  failed = (await rt.store.getRun(third.run.runId))!;
  expect(failed).toMatchObject({ status: 'failed', deadLettered: true });
  // A run still running (to cancel).
  const second = await invokeRun('req-running');
  running = second.run;
  runningTask = second.task;

  root = makeProject('console', JOB_FILES, { 'serverless.yml': `service: ${SERVICE}\n` });
  proc = spawn(process.execPath, [BIN, 'console', '--stage', STAGE, '--port', '0'], {
    cwd: root,
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      BERTH_RUNS_TABLE: cfg.runsTable,
      BERTH_LAUNCH_QUEUE_URL: cfg.launchQueueUrl,
      BERTH_CLUSTER: cfg.cluster,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  proc.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  base = await until(
    'the console URL',
    async () => /dashboard\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1],
    30_000,
  );

  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // Cancel asks for a confirmation.
  page.on('dialog', (d) => void d.accept());
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (proc && proc.exitCode === null) {
    const exited = new Promise<void>((resolve) => proc?.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc?.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  if (root) cleanup(root);
  await moto?.stop();
}, 30_000);

describe('berth console --stage against moto, in Chromium', () => {
  it('prints its URL on 127.0.0.1 and shows the jobs with queue depths from SQS', async () => {
    expect(output).toMatch(/berth console: stage test, 3 jobs/);
    await page.goto(base);
    expect(await page.title()).toBe('Jobs · berth stage test');
    for (const name of ['report', 'orders', 'nightly'])
      await expect(page.getByText(name).first().isVisible()).resolves.toBe(true);
    const jobs = JSON.parse((await raw('/api/jobs')).body) as {
      name: string;
      queue: { visible: number; deadLetter: number };
      nextFireTimes: string[];
    }[];
    expect(jobs.find((j) => j.name === 'orders')?.queue).toMatchObject({ visible: 2, deadLetter: 1 });
    // 02:00 in Seoul is 17:00 UTC.
    expect(jobs.find((j) => j.name === 'nightly')?.nextFireTimes[0]).toMatch(/T17:00:00\.000Z$/);
  });

  it('lists the runs from the runs table', async () => {
    await page.goto(`${base}runs`);
    await expect(page.locator(`#run-${done.runId}`).isVisible()).resolves.toBe(true);
    await expect(page.locator(`#run-${running.runId}`).isVisible()).resolves.toBe(true);
  });

  it('shows the log tail from CloudWatch Logs, escaped', async () => {
    await page.goto(`${base}runs/${done.runId}`);
    const pre = page.locator('#log-1 pre');
    await until('the log lines', async () =>
      ((await pre.textContent()) ?? '').includes('report <b>written</b>') ? true : undefined,
    );
    expect(await pre.textContent()).toContain('hello from the task');
    expect(await pre.locator('span.ln').count()).toBe(2);
  });

  it('Replay puts a replay message on the launch queue; the new run appears without a reload', async () => {
    await page.goto(`${base}runs/${done.runId}`);
    await page.locator(`[data-post="/api/runs/${done.runId}/replay"]`).click();
    await until('the announcement', async () =>
      ((await page.locator('#announce').textContent()) ?? '').includes('Queued') ? true : undefined,
    );
    const messages = await until('the replay message', async () => {
      const got = await receiveLaunchMessages();
      return got.length ? got : undefined;
    });
    expect(messages.map((m) => m.body)).toEqual([
      { type: 'replay', job: 'report', runId: done.runId, requestId: expect.any(String) },
    ]);
    // The announced link, opened before the launcher took the message: a page that says it waits for it.
    const waiting = await browser.newPage();
    waiting.on('pageerror', (e) => pageErrors.push(String(e)));
    const href = (await page.locator('#announce a').getAttribute('href')) ?? '';
    expect((await waiting.goto(new URL(href, base).href))?.status()).toBe(202);
    expect(await waiting.locator('#run-pending').textContent()).toContain(
      'the launcher has not started this run yet',
    );
    // The launcher takes it: a new run with the same trigger, replayOf the original.
    await launch(messages.map((m) => m.body));
    for (const m of messages)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: cfg.launchQueueUrl, ReceiptHandle: m.handle }));
    const replay = (await rt.store.listRuns({ job: 'report', limit: 50 })).find(
      (r) => r.replayOf === done.runId,
    );
    expect(replay).toMatchObject({ trigger: done.trigger, status: 'running' });
    const announced = await page.locator('#announce a').textContent();
    expect(announced).toBe(replay!.runId);
    // The waiting page turns into the run's page by itself.
    await until(
      'the waiting page showing the run',
      async () => ((await waiting.locator('#run-live').count()) > 0 ? true : undefined),
      20_000,
    );
    expect(new URL(waiting.url()).pathname).toBe(`/runs/${replay!.runId}`);
    await waiting.close();
    // The shared poll (5 s) sees the new run and the page links to it, no reload.
    await until(
      'the replay link on the page',
      async () => ((await page.locator(`a[href="/runs/${replay!.runId}"]`).count()) > 1 ? true : undefined),
      20_000,
    );
  });

  it('Redrive puts a redrive message on the launch queue; the redriven run appears live', async () => {
    await page.goto(`${base}runs/${failed.runId}`);
    await page.locator(`[data-post="/api/runs/${failed.runId}/redrive"]`).click();
    const messages = await until('the redrive message', async () => {
      const got = await receiveLaunchMessages();
      return got.length ? got : undefined;
    });
    expect(messages.map((m) => m.body)).toEqual([
      { type: 'redrive', job: 'report', runId: failed.runId, requestId: expect.any(String) },
    ]);
    await launch(messages.map((m) => m.body));
    for (const m of messages)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: cfg.launchQueueUrl, ReceiptHandle: m.handle }));
    const replay = (await rt.store.listRuns({ job: 'report', limit: 50 })).find(
      (r) => r.replayOf === failed.runId,
    );
    expect(replay).toBeDefined();
    expect((await rt.store.getRun(failed.runId))?.deadLettered).toBe(false);
    // The page links the redriven run and drops its Redrive button, without a reload.
    await until(
      'the redriven run on the page',
      async () =>
        (await page.locator(`#run-live a[href="/runs/${replay!.runId}"]`).count()) > 0 &&
        (await page.locator(`[data-post="/api/runs/${failed.runId}/redrive"]`).count()) === 0
          ? true
          : undefined,
      20_000,
    );
  });

  it('Cancel stops the running task with StopTask; the run turns cancelled live', async () => {
    await page.goto(`${base}runs/${running.runId}`);
    await page.locator(`[data-post="/api/runs/${running.runId}/cancel"]`).click();
    const task = await until('the stopped task', async () => {
      const out = await ecs.send(
        new DescribeTasksCommand({ cluster: cfg.cluster, tasks: [runningTask.taskArn!] }),
      );
      const t = out.tasks?.[0];
      return t?.desiredStatus === 'STOPPED' ? t : undefined;
    });
    expect(task.stoppedReason).toBe('berth: cancelled from the console');
    // ECS's STOPPED event reaches the interceptor, which records the run as cancelled.
    await handleTaskStateChange(
      rt,
      stopEvent(task, null, { stoppedReason: task.stoppedReason, stopCode: 'UserInitiated' }),
    );
    expect((await rt.store.getRun(running.runId))?.status).toBe('cancelled');
    await until(
      'the cancelled status on the page',
      async () =>
        ((await page.locator('#run-live').textContent()) ?? '').includes('cancelled') ? true : undefined,
      20_000,
    );
  });

  it('moves the job queue’s dead letters back with the job page’s Redrive button (confirmed), not without the token', async () => {
    await page.goto(`${base}jobs/orders`);
    const status = await page.evaluate(async () => {
      const res = await fetch('/api/jobs/orders/redrive', { method: 'POST' });
      return res.status;
    });
    expect(status).toBe(403);
    // Report has no queue: no Redrive of dead letters on its page.
    await page.goto(`${base}jobs/report`);
    expect(await page.locator('[data-post="/api/jobs/report/redrive"]').count()).toBe(0);
    await page.goto(`${base}jobs/orders`);
    const button = page.getByRole('button', { name: 'Redrive 1 dead letter' });
    // The page's dialog handler (above) accepts; this one only records what was asked.
    const dialogs: string[] = [];
    page.once('dialog', (d) => void dialogs.push(d.message()));
    await button.click();
    await until(
      'the redrive announced and its button gone',
      async () =>
        ((await page.locator('#announce').textContent()) ?? '').includes(
          'Moved 1 dead-letter message back to the queue.',
        ) && (await page.locator('[data-post="/api/jobs/orders/redrive"]').count()) === 0
          ? true
          : undefined,
      20_000,
    );
    expect(dialogs).toEqual([
      "Move 1 dead letter back to orders's queue? It is received again, as a new message.",
    ]);
    // A reload reads the dead-letter queue afresh (not the count cached before the move): no button.
    await page.reload();
    expect(await page.locator('[data-post="/api/jobs/orders/redrive"]').count()).toBe(0);
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: ordersUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe('3');
  });

  it('answers a foreign Host with 403, and only loopback names', async () => {
    const port = new URL(base).port;
    for (const path of ['/', '/runs', `/runs/${done.runId}`, '/api/runs', '/assets/dashboard.js']) {
      const res = await raw(path, { Host: `rebind.example:${port}` });
      expect(res.status, path).toBe(403);
      expect(res.body).not.toContain(done.runId);
    }
    expect((await raw('/', { Host: `localhost:${port}` })).status).toBe(200);
    // Another site's page: its requests to the JSON API are refused before the token is looked at.
    const crossSite = await raw('/api/runs', {
      Origin: 'http://evil.example',
      'Sec-Fetch-Site': 'cross-site',
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body).not.toContain(done.runId);
    expect(pageErrors).toEqual([]);
  });
});

describe('read cost of an open page', () => {
  /** Calls made while `fn` runs, and the polls done meanwhile. */
  async function measure(
    source: Awaited<ReturnType<typeof startConsole>>['source'],
    fn: () => Promise<void>,
  ): Promise<{ calls: Record<string, number>; polls: number; units: number }> {
    const before = new Map(source.calls);
    const polls = source.polls;
    const units = source.readUnits;
    await fn();
    const calls = Object.fromEntries(
      [...source.calls].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0),
    );
    return { calls, polls: source.polls - polls, units: source.readUnits - units };
  }
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  it('an open page costs one Query per run status per poll; a run change re-reads nothing once warm', async () => {
    const running = await startConsole({
      stage: STAGE,
      service: SERVICE,
      endpoint: moto.endpoint,
      region: REGION,
      jobs: JOBS,
      resources: { runsTable: cfg.runsTable, launchQueueUrl: cfg.launchQueueUrl, cluster: cfg.cluster },
      pollMs: 1000,
    });
    const { source } = running;
    const p = await browser.newPage();
    try {
      // A first render (no page open yet, so no poll): what each page reads.
      const get = (path: string) =>
        new Promise<number>((resolve, reject) => {
          request(`${running.url.replace(/\/$/, '')}${path}`, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
            .on('error', reject)
            .end();
        });
      const renders: Record<string, Record<string, number>> = {};
      for (const path of ['/jobs/report', '/', '/runs', `/runs/${done.runId}`]) {
        const r = await measure(source, async () => {
          expect(await get(path)).toBe(200);
        });
        renders[path] = r.calls;
        process.stdout.write(`[console read cost] first render ${path}: ${JSON.stringify(r.calls)}\n`);
      }
      // Rendered again (after the 3 s a render shares its reads): the final runs' attempts are not read again.
      await sleep(3100);
      const again = await measure(source, async () => {
        expect(await get('/jobs/report')).toBe(200);
      });
      process.stdout.write(
        `[console read cost] second render /jobs/report: ${JSON.stringify(again.calls)}\n`,
      );
      const finals = (await rt.store.listRuns({ job: 'report', limit: 100 })).filter((r) =>
        ['succeeded', 'failed', 'timed_out', 'cancelled'].includes(r.status),
      ).length;
      expect(finals).toBeGreaterThan(0);
      expect(again.calls['ddb.QueryCommand']).toBe(
        (renders['/jobs/report']?.['ddb.QueryCommand'] ?? 0) - finals,
      );
      // The jobs page: one byJob Query per job (its newest runs) and one per failed status, shared by all jobs.
      expect(renders['/']?.['ddb.QueryCommand']).toBeLessThanOrEqual(JOBS.length + 2);
      expect(
        Object.keys(renders['/'] ?? {}).filter((k) => k.startsWith('ddb.') && k !== 'ddb.QueryCommand'),
      ).toEqual([]);
      for (const view of ['', 'runs', `runs/${done.runId}`]) {
        await p.goto(`${running.url}${view}`);
        // Let the page settle (first render, the stream's first poll), then count 5 polls.
        await sleep(1500);
        const idle = await measure(source, () => sleep(5000));
        process.stdout.write(
          `[console read cost] idle /${view}: ${JSON.stringify(idle.calls)} in ${idle.polls} polls, ${idle.units} RCU (moto)\n`,
        );
        expect(idle.polls).toBeGreaterThanOrEqual(4);
        // Exactly the poll's Queries: one per run status per poll, nothing per page.
        expect(idle.calls).toEqual({ 'ddb.QueryCommand': 8 * idle.polls });
      }
      // A live log: the page reads on every 2 s from CloudWatch, and reads nothing from the table for it.
      const live = await invokeRun('live-log');
      const logs = new CloudWatchLogsClient(opts);
      const group = names.jobLogGroup('report');
      const stream = `report/main/${live.task.taskArn!.split('/').pop()}`;
      await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
      const put = (message: string) =>
        logs.send(
          new PutLogEventsCommand({
            logGroupName: group,
            logStreamName: stream,
            logEvents: [{ timestamp: Date.now(), message }],
          }),
        );
      await put('first line');
      await p.goto(`${running.url}runs/${live.run.runId}`);
      const pre = p.locator('#log-1 pre');
      await until('the first line', async () =>
        ((await pre.textContent()) ?? '').includes('first line') ? true : undefined,
      );
      await sleep(1000);
      const tail = await measure(source, async () => {
        await put('second line');
        await until('the second line, live', async () =>
          ((await pre.textContent()) ?? '').includes('second line') ? true : undefined,
        );
        await sleep(4000);
      });
      process.stdout.write(
        `[console read cost] live log tail: ${JSON.stringify(tail.calls)} in ${tail.polls} polls\n`,
      );
      expect(tail.calls['ddb.QueryCommand']).toBe(8 * tail.polls);
      expect(Object.keys(tail.calls).filter((k) => k.startsWith('ddb.') && k !== 'ddb.QueryCommand')).toEqual(
        [],
      );
      expect(Object.keys(tail.calls).filter((k) => k.startsWith('ecs.'))).toEqual([]);
      // About one read per 2 s (the window is 4–6 s long).
      expect(tail.calls['logs.GetLogEventsCommand']).toBeGreaterThanOrEqual(2);
      expect(tail.calls['logs.GetLogEventsCommand']).toBeLessThanOrEqual(5);

      // The jobs page while runs change: the first change reads each job's runs once, later ones nothing.
      await p.goto(running.url);
      await sleep(1500);
      const changes: { calls: Record<string, number>; polls: number }[] = [];
      for (const id of ['cost-1', 'cost-2', 'cost-3']) {
        changes.push(
          await measure(source, async () => {
            const { run } = await invokeRun(id);
            // The job's row shows the new run in its strip, live.
            await until('the new run in the strip', async () =>
              (await p.locator(`tr[data-job-stats="report"] .mark[title^="${run.runId}:"]`).count()) === 1
                ? true
                : undefined,
            );
            await sleep(1000);
          }),
        );
      }
      for (const [i, c] of changes.entries())
        process.stdout.write(
          `[console read cost] jobs page, run change ${i + 1}: ${JSON.stringify(c.calls)} in ${c.polls} polls\n`,
        );
      // The measured window includes the launcher's own reads and writes (same moto, other clients): only
      // the console's clients are counted. After the first change, no reads beyond the poll.
      for (const c of changes.slice(1)) {
        expect(c.calls['ddb.QueryCommand'] ?? 0).toBe(8 * c.polls);
        expect(Object.keys(c.calls).filter((k) => k.startsWith('ddb.') && k !== 'ddb.QueryCommand')).toEqual(
          [],
        );
      }
    } finally {
      await p.close();
      await running.close();
    }
  }, 90_000);
});

describe('worker counts', () => {
  it("reads a service-mode job's worker service from ECS (found by its berth:job tag) on each poll", async () => {
    const mailer = job({
      name: 'mailer',
      task: { image: 'node:22' },
      trigger: { queue: { mode: 'service', service: { minTasks: 0, maxTasks: 3, backlogPerTask: 10 } } },
    });
    await ecs.send(
      new CreateServiceCommand({
        cluster: cfg.cluster,
        serviceName: 'console-test-mailer-workers',
        taskDefinition: 'berth-demo-test-report',
        desiredCount: 2,
        tags: [
          { key: 'berth:job', value: 'mailer' },
          { key: 'berth:mode', value: 'service' },
        ],
      }),
    );
    const running = await startConsole({
      stage: STAGE,
      service: SERVICE,
      endpoint: moto.endpoint,
      region: REGION,
      jobs: [...JOBS, mailer],
      resources: { runsTable: cfg.runsTable, launchQueueUrl: cfg.launchQueueUrl, cluster: cfg.cluster },
      pollMs: 60_000,
    });
    try {
      // The poll starts with the first open page (its event stream); here, a listener of our own.
      const stop = running.source.subscribe(() => {});
      await until('the worker pool', async () => (running.source.workerPools().length ? true : undefined));
      stop();
      const [pool] = running.source.workerPools();
      expect(pool).toMatchObject({ job: 'mailer', desired: 2, minTasks: 0, maxTasks: 3, backlogPerTask: 10 });
      expect(pool?.history).toHaveLength(1);
      const jobs = JSON.parse(
        await new Promise<string>((resolve, reject) => {
          request(`${running.url}api/jobs`, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              body += c;
            });
            res.on('end', () => resolve(body));
          })
            .on('error', reject)
            .end();
        }),
      ) as { name: string; workers?: { desired: number } }[];
      expect(jobs.find((j) => j.name === 'mailer')?.workers).toMatchObject({ desired: 2 });
      // Jobs without a worker service have none.
      expect(jobs.find((j) => j.name === 'report')?.workers).toBeUndefined();
    } finally {
      await running.close();
    }
  });
});
