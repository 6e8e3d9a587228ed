/**
 * berth/worker against moto server's SQS over HTTP: visibility extension, deletion only after success,
 * and drain on SIGTERM in a real child process.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWorker } from '../../src/worker/index.js';
import { type MotoServer, startMoto } from '../runtime/aws/motoServer.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TMP = join(ROOT, '.tmp', `worker-test-${process.pid}`);
let moto: MotoServer;
let sqs: SQSClient;
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

beforeAll(async () => {
  moto = await startMoto();
  sqs = new SQSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
  mkdirSync(TMP, { recursive: true });
});

afterAll(async () => {
  sqs?.destroy();
  await moto?.stop();
  rmSync(TMP, { recursive: true, force: true });
});

async function newQueue(name: string, visibilitySeconds = 2): Promise<string> {
  const out = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: String(visibilitySeconds) } }),
  );
  if (!out.QueueUrl) throw new Error('no queue url');
  return out.QueueUrl;
}

async function counts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runWorker against moto SQS', () => {
  it('extends visibility while a slow handler runs, so no other consumer receives the message', async () => {
    const queueUrl = await newQueue('extend');
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"n":1}' }));
    const stop = new AbortController();
    let handled = 0;
    const stolen: string[] = [];
    const worker = runWorker({
      queueUrl,
      client: sqs,
      handleSignals: false,
      signal: stop.signal,
      visibilityTimeout: '2s',
      waitTimeSeconds: 1,
      log: () => {},
      handler: async (m) => {
        expect(m.json).toEqual({ n: 1 });
        expect(m.receiveCount).toBe(1);
        // Three times the 2 s visibility timeout: without extension the message would reappear twice.
        const until = Date.now() + 6_000;
        while (Date.now() < until) {
          const other = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0, VisibilityTimeout: 0 }),
          );
          for (const msg of other.Messages ?? []) stolen.push(msg.Body ?? '');
          await sleep(400);
        }
        handled += 1;
        stop.abort();
      },
    });
    const stats = await worker;
    expect(stolen).toEqual([]);
    expect(handled).toBe(1);
    expect(stats.extensions).toBeGreaterThanOrEqual(4);
    expect(stats).toMatchObject({ received: 1, succeeded: 1, failed: 0 });
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('deletes a message only after its handler succeeds; a failed one comes back with a higher receive count', async () => {
    const queueUrl = await newQueue('delete-after-success', 1);
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'ok' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'boom' }));
    const stop = new AbortController();
    const seen: Array<[string, number]> = [];
    const stats = await runWorker({
      queueUrl,
      client: sqs,
      handleSignals: false,
      signal: stop.signal,
      batchSize: 2,
      visibilityTimeout: 1,
      waitTimeSeconds: 1,
      log: () => {},
      handler: (m) => {
        seen.push([m.body, m.receiveCount]);
        if (m.body === 'boom' && m.receiveCount >= 2) stop.abort();
        if (m.body === 'boom') throw new Error('simulated failure');
      },
    });
    // 'ok' once; 'boom' twice: it was not deleted after the first failure.
    expect(seen.filter(([b]) => b === 'ok')).toEqual([['ok', 1]]);
    expect(seen.filter(([b]) => b === 'boom').map(([, n]) => n)).toEqual([1, 2]);
    expect(stats).toMatchObject({ succeeded: 1, failed: 2 });
    // The failed message is still on the queue; the successful one is gone.
    await sleep(1_500);
    const left = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    expect((left.Messages ?? []).map((m) => m.Body)).toEqual(['boom']);
    expect(Number(left.Messages?.[0]?.Attributes?.ApproximateReceiveCount)).toBe(3);
  });

  it('on SIGTERM stops receiving, finishes the in-flight message, deletes it and exits 0', async () => {
    const queueUrl = await newQueue('drain');
    for (const body of ['a', 'b', 'c'])
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const doneFile = join(TMP, 'drain-done.txt');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join('test', 'worker', 'fixtures', 'drain-worker.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          BERTH_QUEUE_URL: queueUrl,
          AWS_ENDPOINT_URL_SQS: moto.endpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'testing',
          AWS_SECRET_ACCESS_KEY: 'testing',
          HANDLER_MS: '3000',
          DONE_FILE: doneFile,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!/RECEIVED \w/.test(out)) {
        if (Date.now() > deadline) throw new Error(`worker never received a message:\n${out}`);
        await sleep(50);
      }
      const first = /RECEIVED (\w)/.exec(out)?.[1];
      const termAt = Date.now();
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(15_000).then(() => 'timeout' as const)]);
      expect(code, out).toBe(0);
      // It waited for the handler (3 s) instead of dying at once.
      expect(Date.now() - termAt).toBeGreaterThan(1_500);
      expect(readFileSync(doneFile, 'utf8')).toBe(`${first}\n`);
      expect(out.match(/RECEIVED/g)).toHaveLength(1);
      const stats = JSON.parse(/STATS (.*)/.exec(out)?.[1] ?? '{}');
      expect(stats).toMatchObject({ received: 1, succeeded: 1, failed: 0, released: 0, stoppedBy: 'signal' });
      // The two untouched messages are still waiting; the finished one was deleted.
      expect(await counts(queueUrl)).toEqual({ visible: 2, inFlight: 0 });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('hands messages back (visibility 0) when the drain deadline passes', async () => {
    const queueUrl = await newQueue('release', 30);
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'slow' }));
    const stop = new AbortController();
    let aborted = false;
    const stats = await runWorker({
      queueUrl,
      client: sqs,
      handleSignals: false,
      signal: stop.signal,
      visibilityTimeout: '30s',
      waitTimeSeconds: 1,
      drainTimeout: '500ms',
      log: () => {},
      handler: async (m) => {
        stop.abort();
        await new Promise<void>((resolve) =>
          m.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        aborted = true;
      },
    });
    expect(aborted).toBe(true);
    expect(stats).toMatchObject({ received: 1, released: 1, succeeded: 0 });
    // Released at once, not after the 30 s timeout.
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(again.Messages?.[0]?.Body).toBe('slow');
  });
});
