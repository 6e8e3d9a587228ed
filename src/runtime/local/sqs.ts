/**
 * A small SQS-compatible endpoint (AWS JSON protocol 1.0) so an application using `@aws-sdk/client-sqs`
 * with `endpoint: 'http://127.0.0.1:<port>'` can feed a job's queue unchanged. Supports `SendMessage`,
 * `SendMessageBatch`, `GetQueueUrl` and `GetQueueAttributes`; anything else answers `UnsupportedOperation`.
 * Errors follow the protocol: HTTP 400, `{"__type":"com.amazonaws.sqs#…","message":…}` plus the
 * `x-amzn-query-error` header the SDK reads for query-compatible error codes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { QueueStats } from './api.js';

/** SQS limits: 1 MiB per message and per batch, ≤ 900 s delay, ≤ 10 entries per batch. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
export const SQS_MAX_DELAY_SECONDS = 900;
export const SQS_MAX_BATCH = 10;
export const LOCAL_ACCOUNT_ID = '123456789012';

export interface SqsBackend {
  /** Queue name → true when it feeds a job. */
  hasQueue(name: string): boolean;
  send(
    name: string,
    body: string,
    options: {
      delaySeconds: number;
      attributes?: Record<string, unknown>;
      groupId?: string;
      deduplicationId?: string;
    },
  ): { messageId: string; md5OfBody: string };
  stats(name: string): QueueStats;
}

class SqsError extends Error {
  constructor(
    readonly type: string,
    readonly queryCode: string,
    message: string,
    readonly sender = true,
  ) {
    super(message);
  }
}

function queueNameFromUrl(url: unknown): string {
  if (typeof url !== 'string' || url === '') {
    throw new SqsError('InvalidAddress', 'InvalidAddress', 'QueueUrl is required');
  }
  try {
    const parts = new URL(url).pathname.split('/').filter(Boolean);
    const name = parts[parts.length - 1];
    if (name) return name;
  } catch {
    // fall through
  }
  throw new SqsError(
    'InvalidAddress',
    'InvalidAddress',
    `The address ${url} is not valid for this endpoint.`,
  );
}

function validateMessage(body: unknown, delay: unknown): { body: string; delaySeconds: number } {
  if (typeof body !== 'string' || body.length === 0) {
    throw new SqsError(
      'InvalidParameterValue',
      'InvalidParameterValue',
      'The request must contain the parameter MessageBody.',
    );
  }
  if (Buffer.byteLength(body, 'utf8') > SQS_MAX_MESSAGE_BYTES) {
    throw new SqsError(
      'InvalidParameterValue',
      'InvalidParameterValue',
      `One or more parameters are invalid. Reason: Message must be shorter than ${SQS_MAX_MESSAGE_BYTES} bytes.`,
    );
  }
  const delaySeconds = delay === undefined || delay === null ? 0 : Number(delay);
  if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > SQS_MAX_DELAY_SECONDS) {
    throw new SqsError(
      'InvalidParameterValue',
      'InvalidParameterValue',
      `Value ${String(delay)} for parameter DelaySeconds is invalid. Reason: must be between 0 and ${SQS_MAX_DELAY_SECONDS}, if provided.`,
    );
  }
  return { body, delaySeconds };
}

function requireQueue(backend: SqsBackend, name: string): void {
  if (!backend.hasQueue(name)) {
    throw new SqsError(
      'QueueDoesNotExist',
      'AWS.SimpleQueueService.NonExistentQueue',
      'The specified queue does not exist.',
    );
  }
}

/** Handles one JSON-protocol request; `baseUrl` is `http://127.0.0.1:<port>`. */
export function handleSqsAction(
  backend: SqsBackend,
  baseUrl: string,
  action: string,
  input: Record<string, unknown>,
): Record<string, unknown> {
  switch (action) {
    case 'GetQueueUrl': {
      const name = input.QueueName;
      if (typeof name !== 'string')
        throw new SqsError('InvalidParameterValue', 'InvalidParameterValue', 'QueueName is required');
      requireQueue(backend, name);
      return { QueueUrl: `${baseUrl}/${LOCAL_ACCOUNT_ID}/${name}` };
    }
    case 'SendMessage': {
      const name = queueNameFromUrl(input.QueueUrl);
      requireQueue(backend, name);
      const m = validateMessage(input.MessageBody, input.DelaySeconds);
      const sent = backend.send(name, m.body, {
        delaySeconds: m.delaySeconds,
        ...(input.MessageAttributes
          ? { attributes: input.MessageAttributes as Record<string, unknown> }
          : {}),
        ...(typeof input.MessageGroupId === 'string' ? { groupId: input.MessageGroupId } : {}),
        ...(typeof input.MessageDeduplicationId === 'string'
          ? { deduplicationId: input.MessageDeduplicationId }
          : {}),
      });
      return { MessageId: sent.messageId, MD5OfMessageBody: sent.md5OfBody };
    }
    case 'SendMessageBatch': {
      const name = queueNameFromUrl(input.QueueUrl);
      requireQueue(backend, name);
      const entries = Array.isArray(input.Entries) ? (input.Entries as Record<string, unknown>[]) : [];
      if (entries.length === 0) {
        throw new SqsError(
          'EmptyBatchRequest',
          'AWS.SimpleQueueService.EmptyBatchRequest',
          'There should be at least one SendMessageBatchRequestEntry in the request.',
        );
      }
      if (entries.length > SQS_MAX_BATCH) {
        throw new SqsError(
          'TooManyEntriesInBatchRequest',
          'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
          `Maximum number of entries per request are ${SQS_MAX_BATCH}. You have sent ${entries.length}.`,
        );
      }
      const ids = entries.map((e) => e.Id);
      if (new Set(ids).size !== ids.length) {
        throw new SqsError(
          'BatchEntryIdsNotDistinct',
          'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
          'Two or more batch entries in the request have the same Id.',
        );
      }
      const total = entries.reduce((n, e) => n + Buffer.byteLength(String(e.MessageBody ?? ''), 'utf8'), 0);
      if (total > SQS_MAX_MESSAGE_BYTES) {
        throw new SqsError(
          'BatchRequestTooLong',
          'AWS.SimpleQueueService.BatchRequestTooLong',
          `Batch requests cannot be longer than ${SQS_MAX_MESSAGE_BYTES} bytes.`,
        );
      }
      const Successful: Record<string, unknown>[] = [];
      const Failed: Record<string, unknown>[] = [];
      for (const e of entries) {
        try {
          const m = validateMessage(e.MessageBody, e.DelaySeconds);
          const sent = backend.send(name, m.body, {
            delaySeconds: m.delaySeconds,
            ...(e.MessageAttributes ? { attributes: e.MessageAttributes as Record<string, unknown> } : {}),
            ...(typeof e.MessageGroupId === 'string' ? { groupId: e.MessageGroupId } : {}),
            ...(typeof e.MessageDeduplicationId === 'string'
              ? { deduplicationId: e.MessageDeduplicationId }
              : {}),
          });
          Successful.push({ Id: e.Id, MessageId: sent.messageId, MD5OfMessageBody: sent.md5OfBody });
        } catch (error) {
          if (!(error instanceof SqsError)) throw error;
          Failed.push({ Id: e.Id, SenderFault: true, Code: error.type, Message: error.message });
        }
      }
      return { Successful, Failed };
    }
    case 'GetQueueAttributes': {
      const name = queueNameFromUrl(input.QueueUrl);
      requireQueue(backend, name);
      const s = backend.stats(name);
      return {
        Attributes: {
          ApproximateNumberOfMessages: String(s.visible),
          ApproximateNumberOfMessagesNotVisible: String(s.inFlight),
          ApproximateNumberOfMessagesDelayed: String(s.delayed),
          QueueArn: `arn:aws:sqs:us-east-1:${LOCAL_ACCOUNT_ID}:${name}`,
        },
      };
    }
    default:
      throw new SqsError(
        'UnsupportedOperation',
        'AWS.SimpleQueueService.UnsupportedOperation',
        `berth dev's SQS endpoint does not support ${action}; it supports SendMessage, SendMessageBatch, GetQueueUrl and GetQueueAttributes.`,
      );
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new SqsError('RequestTooLong', 'RequestTooLong', 'The request is too long.'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** True when the request is an SQS JSON-protocol call (it has `X-Amz-Target: AmazonSQS.*`). */
export function isSqsRequest(req: IncomingMessage): boolean {
  const target = req.headers['x-amz-target'];
  return req.method === 'POST' && typeof target === 'string' && target.startsWith('AmazonSQS.');
}

export async function serveSqs(
  backend: SqsBackend,
  baseUrl: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const action = String(req.headers['x-amz-target']).slice('AmazonSQS.'.length);
  const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': crypto.randomUUID(),
      ...headers,
    });
    res.end(text);
  };
  try {
    const raw = await readBody(req, SQS_MAX_MESSAGE_BYTES * 2 + 65_536);
    let input: Record<string, unknown>;
    try {
      input = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      throw new SqsError('SerializationException', 'SerializationException', 'The request body is not JSON.');
    }
    reply(200, handleSqsAction(backend, baseUrl, action, input));
  } catch (error) {
    if (error instanceof SqsError) {
      reply(
        400,
        { __type: `com.amazonaws.sqs#${error.type}`, message: error.message },
        { 'x-amzn-query-error': `${error.queryCode};${error.sender ? 'Sender' : 'Receiver'}` },
      );
    } else {
      reply(
        500,
        { __type: 'com.amazonaws.sqs#InternalError', message: (error as Error).message },
        {
          'x-amzn-query-error': 'InternalError;Receiver',
        },
      );
    }
  }
}
