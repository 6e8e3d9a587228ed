/**
 * `berth/worker`: the poll loop for a `mode: 'service'` queue job written in TypeScript or JavaScript.
 *
 * It long-polls the job's queue, runs your handler for each message while extending the message's
 * visibility so no other worker receives it, deletes the message only after the handler succeeds, and on
 * SIGTERM (a scale-in, a deploy, or Spot's two-minute warning) stops receiving and finishes the messages it
 * holds before it returns.
 *
 * @example
 * import { runWorker } from 'berth/worker';
 *
 * await runWorker({
 *   handler: async (message) => {
 *     const email = message.json as { to: string };
 *     await sendEmail(email.to);
 *   },
 * });
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type Duration, parseDuration } from '../core/duration.js';

export type { Duration };

/** One received message, as the handler sees it. */
export interface WorkerMessage {
  messageId: string;
  /** The raw body. */
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  /** Deliveries so far, counting this one (SQS ApproximateReceiveCount). */
  receiveCount: number;
  /** FIFO queues: the message group. */
  groupId?: string;
  /** String message attributes. */
  attributes: Record<string, string>;
  /** Aborted when the worker gives up the message (drain deadline passed); stop work when you can. */
  signal: AbortSignal;
}

export interface RunWorkerOptions {
  /** Processes one message. Resolve to delete it; throw to leave it for redelivery (and the dead-letter queue). */
  handler: (message: WorkerMessage) => Promise<void> | void;
  /** Queue URL. @default process.env.BERTH_QUEUE_URL (set by berth on AWS and under `berth dev`) */
  queueUrl?: string;
  /** Messages processed at once, and the most asked for per receive (1–10). @default 1 */
  batchSize?: number;
  /**
   * How long a received message stays hidden; the worker extends it by this much while the handler runs,
   * renewing at half of it. @default '30s'
   */
  visibilityTimeout?: Duration | number;
  /** Long-poll wait per receive, seconds (0–20). @default 20 */
  waitTimeSeconds?: number;
  /**
   * After SIGTERM, how long in-flight messages may still run before the worker releases them to other
   * workers (visibility 0) and returns. Keep it under the container's stop timeout (berth sets 120 s for
   * service workers, Spot's warning). @default '100s'
   */
  drainTimeout?: Duration | number;
  /** Stop on SIGTERM and SIGINT. @default true */
  handleSignals?: boolean;
  /** Stops the worker like SIGTERM does. */
  signal?: AbortSignal;
  /** An SQS client (tests, custom endpoints). @default new SQSClient({}) (honours AWS_ENDPOINT_URL_SQS) */
  client?: SQSClient;
  /** Where the worker reports what it does. @default console.error lines */
  log?: (line: string) => void;
}

export interface WorkerStats {
  received: number;
  succeeded: number;
  failed: number;
  /** ChangeMessageVisibility calls that extended a running message. */
  extensions: number;
  /** Messages handed back (visibility 0) when the drain deadline passed. */
  released: number;
  /** Why the loop ended. */
  stoppedBy: 'signal' | 'abort';
}

const toMs = (value: Duration | number | undefined, fallbackMs: number): number =>
  value === undefined ? fallbackMs : typeof value === 'number' ? value * 1000 : parseDuration(value);

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Runs the SQS poll loop until SIGTERM/SIGINT (or `signal`), then drains and resolves with counts.
 * Receive errors back off and retry; they never end the loop.
 */
export async function runWorker(options: RunWorkerOptions): Promise<WorkerStats> {
  const queueUrl = options.queueUrl ?? process.env.BERTH_QUEUE_URL;
  if (!queueUrl) {
    throw new Error(
      'runWorker: no queue URL — pass queueUrl, or run as a berth service-mode job (it sets BERTH_QUEUE_URL)',
    );
  }
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) {
    throw new RangeError(`runWorker: batchSize ${batchSize} is out of range — use 1 to 10`);
  }
  const visibilityMs = toMs(options.visibilityTimeout, 30_000);
  const visibilitySeconds = Math.max(1, Math.min(43_200, Math.round(visibilityMs / 1000)));
  const waitTimeSeconds = options.waitTimeSeconds ?? 20;
  const drainMs = toMs(options.drainTimeout, 100_000);
  const log = options.log ?? ((line: string) => console.error(`[berth/worker] ${line}`));
  const ownClient = options.client === undefined;
  const client = options.client ?? new SQSClient({});

  const stats: WorkerStats = {
    received: 0,
    succeeded: 0,
    failed: 0,
    extensions: 0,
    released: 0,
    stoppedBy: 'abort',
  };
  const inFlight = new Map<string, { done: Promise<void>; release: AbortController; receipt: string }>();
  const stopping = new AbortController();
  const stop = (by: WorkerStats['stoppedBy']) => {
    if (stopping.signal.aborted) return;
    stats.stoppedBy = by;
    log(`${by === 'signal' ? 'SIGTERM' : 'stop'}: no new messages; draining ${inFlight.size} in flight`);
    stopping.abort();
  };
  const onSignal = () => stop('signal');
  if (options.handleSignals ?? true) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  if (options.signal?.aborted) stop('abort');
  options.signal?.addEventListener('abort', () => stop('abort'), { once: true });

  const slotFreed: Array<() => void> = [];
  const notifySlot = () => {
    for (const fn of slotFreed.splice(0)) fn();
  };

  const process1 = async (message: Message, release: AbortController): Promise<void> => {
    const receipt = message.ReceiptHandle ?? '';
    const id = message.MessageId ?? receipt;
    // Renew at half the timeout so a slow extension call still lands before the message reappears.
    const renewEvery = Math.max(500, Math.floor(visibilityMs / 2));
    const timer = setInterval(() => {
      client
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: receipt,
            VisibilityTimeout: visibilitySeconds,
          }),
        )
        .then(() => {
          stats.extensions += 1;
        })
        .catch((error: unknown) => log(`could not extend ${id}: ${String(error)}`));
    }, renewEvery);
    // Once handed back to the queue, the message is another worker's: stop extending it.
    release.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
    try {
      const body = message.Body ?? '';
      const attributes: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.MessageAttributes ?? {})) {
        if (v.StringValue !== undefined) attributes[k] = v.StringValue;
      }
      await options.handler({
        messageId: id,
        body,
        json: parseJson(body),
        receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
        ...(message.Attributes?.MessageGroupId ? { groupId: message.Attributes.MessageGroupId } : {}),
        attributes,
        signal: release.signal,
      });
      clearInterval(timer);
      if (release.signal.aborted) return; // already handed back: another worker owns it now
      await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
      stats.succeeded += 1;
    } catch (error) {
      clearInterval(timer);
      stats.failed += 1;
      // Not deleted: the message reappears after its visibility timeout and, after maxReceiveCount
      // deliveries, moves to the dead-letter queue.
      log(`message ${id} failed (left on the queue for redelivery): ${String(error)}`);
    }
  };

  try {
    while (!stopping.signal.aborted) {
      const free = batchSize - inFlight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          slotFreed.push(resolve);
          stopping.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        continue;
      }
      let messages: Message[] = [];
      try {
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: free,
            WaitTimeSeconds: waitTimeSeconds,
            VisibilityTimeout: visibilitySeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'MessageGroupId'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: stopping.signal },
        );
        messages = out.Messages ?? [];
      } catch (error) {
        if (stopping.signal.aborted) break;
        log(`receive failed, retrying in 1s: ${String(error)}`);
        await sleep(1000, stopping.signal);
        continue;
      }
      for (const message of messages) {
        stats.received += 1;
        const key = message.ReceiptHandle ?? String(stats.received);
        const release = new AbortController();
        const done = process1(message, release).finally(() => {
          inFlight.delete(key);
          notifySlot();
        });
        inFlight.set(key, { done, release, receipt: message.ReceiptHandle ?? '' });
      }
    }

    // Drain: finish what we hold, up to the deadline; then give the rest back to the queue at once.
    if (inFlight.size > 0) {
      const all = Promise.all([...inFlight.values()].map((f) => f.done));
      const deadline = new AbortController();
      const timedOut = await Promise.race([
        all.then(() => false),
        sleep(drainMs, deadline.signal).then(() => true),
      ]);
      deadline.abort();
      if (timedOut) {
        for (const [, f] of inFlight) {
          f.release.abort();
          try {
            await client.send(
              new ChangeMessageVisibilityCommand({
                QueueUrl: queueUrl,
                ReceiptHandle: f.receipt,
                VisibilityTimeout: 0,
              }),
            );
            stats.released += 1;
          } catch (error) {
            log(`could not release a message: ${String(error)}`);
          }
        }
      }
    }
    log(
      `stopped: ${stats.succeeded} succeeded, ${stats.failed} failed, ${stats.released} released, ${stats.extensions} extensions`,
    );
    return stats;
  } finally {
    if (options.handleSignals ?? true) {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    if (ownClient) client.destroy();
  }
}
