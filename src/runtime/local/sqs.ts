/**
 * A small SQS-compatible endpoint (AWS JSON protocol 1.0) so an application using `@aws-sdk/client-sqs`
 * with `endpoint: 'http://127.0.0.1:<port>'` can feed a job's queue unchanged. Supports `SendMessage`,
 * `SendMessageBatch`, `GetQueueUrl` and `GetQueueAttributes`; anything else answers `UnsupportedOperation`.
 * Errors follow the protocol: HTTP 400 (403 for a refused signature, 413 for an oversized request),
 * `{"__type":"com.amazonaws.sqs#…","message":…}` plus the `x-amzn-query-error` header the SDK reads for
 * query-compatible error codes. Every call must be signed with the engine's credential (`sigv4.ts`); its
 * body is read with a cap, and malformed input is a 400, never a 500.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { QueueStats } from './api.js';
import { BodyTooLargeError, closeAfterAnswer, readCappedBody } from './body.js';
import type { DevCredentials } from './credentials.js';
import { verifySigV4 } from './sigv4.js';

/** SQS limits: 1 MiB per message and per batch, ≤ 900 s delay, ≤ 10 entries per batch. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
export const SQS_MAX_DELAY_SECONDS = 900;
export const SQS_MAX_BATCH = 10;
/** SQS: at most 10 message attributes per message, names up to 256 characters. */
export const SQS_MAX_MESSAGE_ATTRIBUTES = 10;
export const SQS_MAX_ATTRIBUTE_NAME = 256;
/** SQS: batch entry ids, message group ids and deduplication ids are at most 80 and 128 characters. */
export const SQS_MAX_BATCH_ENTRY_ID = 80;
export const SQS_MAX_GROUP_OR_DEDUP_ID = 128;
/**
 * The largest request body the endpoint reads: a full 1 MiB message (or batch) whose every character JSON
 * escapes to two (`"`, `\`, tab, newline), plus the request's envelope. Anything longer cannot be valid.
 */
export const SQS_MAX_REQUEST_BYTES = 2 * SQS_MAX_MESSAGE_BYTES + 65_536;
export const LOCAL_ACCOUNT_ID = '123456789012';

export interface SqsBackend {
  /** Queue name → true when it feeds a job. */
  hasQueue(name: string): boolean;
  /** True when the queue is FIFO (a message group is then required). */
  isFifo?(name: string): boolean;
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

export class SqsError extends Error {
  constructor(
    readonly type: string,
    readonly queryCode: string,
    message: string,
    readonly sender = true,
    readonly status = 400,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new SqsError('InvalidParameterValue', 'InvalidParameterValue', message);

/** Writes an AWS JSON-protocol error answer. */
export function sendSqsError(res: ServerResponse, error: SqsError): void {
  const text = JSON.stringify({ __type: `com.amazonaws.sqs#${error.type}`, message: error.message });
  res.writeHead(error.status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    'x-amzn-query-error': `${error.queryCode};${error.sender ? 'Sender' : 'Receiver'}`,
  });
  res.end(text);
}

/** Answers a failed SQS call: an `SqsError` as it is, anything else as a 500 `InternalError`. */
export function sendSqsFailure(res: ServerResponse, error: unknown): void {
  sendSqsError(
    res,
    error instanceof SqsError
      ? error
      : new SqsError('InternalError', 'InternalError', (error as Error).message, false, 500),
  );
}

/** Writes an AWS JSON-protocol success answer. */
export function sendSqsResult(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

function queueNameFromUrl(url: unknown): string {
  if (typeof url !== 'string' || url === '') {
    throw new SqsError(
      'MissingParameter',
      'MissingParameter',
      'The request must contain the parameter QueueUrl.',
    );
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

/** The characters SQS accepts in a message: #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF. */
const INVALID_SQS_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** A whole number from a JSON number or numeric string; `undefined`/`null` give `fallback`. */
export function integerParam(
  name: string,
  value: unknown,
  min: number,
  max: number,
  fallback: number | undefined,
): number | undefined {
  if (value === undefined || value === null) return fallback;
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw invalid(
      `Value ${JSON.stringify(value)} for parameter ${name} is invalid. Reason: must be a whole number from ${min} to ${max}.`,
    );
  }
  return n;
}

const ATTRIBUTE_NAME_RE = /^[A-Za-z0-9_.-]+$/;
const DATA_TYPE_RE = /^(String|Number|Binary)(\.[^\s]{1,})?$/;

/**
 * Checks `MessageAttributes` the way SQS does (≤ 10, valid names, a data type and a value of that type)
 * and returns how many bytes they add to the message's size (name + type + value).
 */
export function checkMessageAttributes(attributes: unknown): number {
  if (attributes === undefined || attributes === null) return 0;
  if (typeof attributes !== 'object' || Array.isArray(attributes)) {
    throw invalid(
      'MessageAttributes must be a map of attribute name to {DataType, StringValue | BinaryValue}.',
    );
  }
  const entries = Object.entries(attributes as Record<string, unknown>);
  if (entries.length > SQS_MAX_MESSAGE_ATTRIBUTES) {
    throw invalid(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [${SQS_MAX_MESSAGE_ATTRIBUTES}].`,
    );
  }
  let bytes = 0;
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    if (
      name.length === 0 ||
      name.length > SQS_MAX_ATTRIBUTE_NAME ||
      !ATTRIBUTE_NAME_RE.test(name) ||
      name.startsWith('.') ||
      name.endsWith('.') ||
      name.includes('..') ||
      lower.startsWith('aws.') ||
      lower.startsWith('amazon.')
    ) {
      throw invalid(
        `Message (user) attribute name '${name}' is invalid: use up to ${SQS_MAX_ATTRIBUTE_NAME} letters, digits, '_', '-' and '.', not starting with AWS. or Amazon.`,
      );
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalid(`Message (user) attribute '${name}' must be an object with DataType and a value.`);
    }
    const v = value as { DataType?: unknown; StringValue?: unknown; BinaryValue?: unknown };
    if (typeof v.DataType !== 'string' || !DATA_TYPE_RE.test(v.DataType)) {
      throw invalid(
        `Message (user) attribute '${name}' has an invalid DataType ${JSON.stringify(v.DataType ?? null)}: use String, Number or Binary (optionally with a .suffix).`,
      );
    }
    const binary = v.DataType.startsWith('Binary');
    const raw = binary ? v.BinaryValue : v.StringValue;
    if (typeof raw !== 'string' || raw.length === 0) {
      throw invalid(
        `Message (user) attribute '${name}' must contain a non-empty value of type '${binary ? 'Binary' : v.DataType.split('.')[0]}'.`,
      );
    }
    if (!binary && INVALID_SQS_CHAR.test(raw)) {
      throw new SqsError(
        'InvalidMessageContents',
        'InvalidMessageContents',
        `Message (user) attribute '${name}' contains characters outside the allowed set.`,
      );
    }
    if (v.DataType.startsWith('Number') && !Number.isFinite(Number(raw))) {
      throw invalid(
        `Message (user) attribute '${name}' of type Number has the value ${JSON.stringify(raw)}, which is not a number.`,
      );
    }
    const valueBytes = binary ? Buffer.from(raw, 'base64').length : Buffer.byteLength(raw, 'utf8');
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(v.DataType, 'utf8') + valueBytes;
  }
  return bytes;
}

/** A message body as SQS checks it: present, valid characters, within 1 MiB (attributes included). */
export function checkMessageBody(body: unknown, attributeBytes = 0): string {
  if (typeof body !== 'string' || body.length === 0) {
    throw invalid('The request must contain the parameter MessageBody.');
  }
  if (INVALID_SQS_CHAR.test(body)) {
    throw new SqsError(
      'InvalidMessageContents',
      'InvalidMessageContents',
      'Invalid binary character in the message body: SQS accepts #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.',
    );
  }
  if (Buffer.byteLength(body, 'utf8') + attributeBytes > SQS_MAX_MESSAGE_BYTES) {
    throw invalid(
      `One or more parameters are invalid. Reason: Message must be shorter than ${SQS_MAX_MESSAGE_BYTES} bytes.`,
    );
  }
  return body;
}

function optionalId(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > SQS_MAX_GROUP_OR_DEDUP_ID ||
    !/^[\x21-\x7E]+$/.test(value)
  ) {
    throw invalid(
      `Value ${JSON.stringify(value)} for parameter ${name} is invalid. Reason: use 1 to ${SQS_MAX_GROUP_OR_DEDUP_ID} characters from a-z, A-Z, 0-9 and punctuation.`,
    );
  }
  return value;
}

interface CheckedMessage {
  body: string;
  delaySeconds: number;
  attributes?: Record<string, unknown>;
  groupId?: string;
  deduplicationId?: string;
}

function checkMessage(input: Record<string, unknown>, fifo: boolean): CheckedMessage {
  const attributeBytes = checkMessageAttributes(input.MessageAttributes);
  const body = checkMessageBody(input.MessageBody, attributeBytes);
  const delaySeconds = integerParam(
    'DelaySeconds',
    input.DelaySeconds,
    0,
    SQS_MAX_DELAY_SECONDS,
    0,
  ) as number;
  const groupId = optionalId('MessageGroupId', input.MessageGroupId);
  const deduplicationId = optionalId('MessageDeduplicationId', input.MessageDeduplicationId);
  if (fifo && groupId === undefined) {
    throw new SqsError(
      'MissingParameter',
      'MissingParameter',
      'The request must contain the parameter MessageGroupId.',
    );
  }
  if (!fifo && deduplicationId !== undefined) {
    throw invalid(
      'The request include parameter MessageDeduplicationId that is not valid for this queue type: it applies only to FIFO queues.',
    );
  }
  return {
    body,
    delaySeconds,
    ...(input.MessageAttributes ? { attributes: input.MessageAttributes as Record<string, unknown> } : {}),
    ...(groupId !== undefined ? { groupId } : {}),
    ...(deduplicationId !== undefined ? { deduplicationId } : {}),
  };
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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
      if (typeof name !== 'string' || name === '')
        throw new SqsError(
          'MissingParameter',
          'MissingParameter',
          'The request must contain the parameter QueueName.',
        );
      requireQueue(backend, name);
      return { QueueUrl: `${baseUrl}/${LOCAL_ACCOUNT_ID}/${name}` };
    }
    case 'SendMessage': {
      const name = queueNameFromUrl(input.QueueUrl);
      requireQueue(backend, name);
      const m = checkMessage(input, backend.isFifo?.(name) ?? false);
      const { body, ...options } = m;
      const sent = backend.send(name, body, options);
      return { MessageId: sent.messageId, MD5OfMessageBody: sent.md5OfBody };
    }
    case 'SendMessageBatch': {
      const name = queueNameFromUrl(input.QueueUrl);
      requireQueue(backend, name);
      if (input.Entries !== undefined && input.Entries !== null && !Array.isArray(input.Entries)) {
        throw invalid('Entries must be a list of SendMessageBatchRequestEntry objects.');
      }
      const entries = (input.Entries ?? []) as unknown[];
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
      entries.forEach((e, i) => {
        if (!isObject(e))
          throw invalid(
            `Entries[${i}] must be a SendMessageBatchRequestEntry object, not ${JSON.stringify(e)}.`,
          );
        if (
          typeof e.Id !== 'string' ||
          e.Id.length === 0 ||
          e.Id.length > SQS_MAX_BATCH_ENTRY_ID ||
          !/^[A-Za-z0-9_-]+$/.test(e.Id)
        ) {
          throw new SqsError(
            'InvalidBatchEntryId',
            'AWS.SimpleQueueService.InvalidBatchEntryId',
            `A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most ${SQS_MAX_BATCH_ENTRY_ID} letters long.`,
          );
        }
      });
      const checked = entries as Record<string, unknown>[];
      const ids = checked.map((e) => e.Id);
      if (new Set(ids).size !== ids.length) {
        throw new SqsError(
          'BatchEntryIdsNotDistinct',
          'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
          'Two or more batch entries in the request have the same Id.',
        );
      }
      const total = checked.reduce(
        (n, e) => n + (typeof e.MessageBody === 'string' ? Buffer.byteLength(e.MessageBody, 'utf8') : 0),
        0,
      );
      if (total > SQS_MAX_MESSAGE_BYTES) {
        throw new SqsError(
          'BatchRequestTooLong',
          'AWS.SimpleQueueService.BatchRequestTooLong',
          `Batch requests cannot be longer than ${SQS_MAX_MESSAGE_BYTES} bytes.`,
        );
      }
      const fifo = backend.isFifo?.(name) ?? false;
      const Successful: Record<string, unknown>[] = [];
      const Failed: Record<string, unknown>[] = [];
      for (const e of checked) {
        try {
          const { body, ...options } = checkMessage(e, fifo);
          const sent = backend.send(name, body, options);
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

/** True when the request is an SQS JSON-protocol call (it has `X-Amz-Target: AmazonSQS.*`). */
export function isSqsRequest(req: IncomingMessage): boolean {
  const target = req.headers['x-amz-target'];
  return req.method === 'POST' && typeof target === 'string' && target.startsWith('AmazonSQS.');
}

/** The action of an SQS call: `AmazonSQS.SendMessage` → `SendMessage`. */
export function sqsAction(req: IncomingMessage): string {
  return String(req.headers['x-amz-target']).slice('AmazonSQS.'.length);
}

/**
 * The gate of every SQS call (the endpoint's and the workers'): reads the body with a cap (`limit`) and
 * checks its SigV4 signature against the engine's credential. Returns the body; on a refusal it has already
 * answered with the AWS-shaped error and returns undefined.
 */
export async function admitSqsCall(
  req: IncomingMessage,
  res: ServerResponse,
  credentials: DevCredentials,
  limit = SQS_MAX_REQUEST_BYTES,
): Promise<Buffer | undefined> {
  let body: Buffer;
  try {
    body = await readCappedBody(req, limit);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    closeAfterAnswer(error, res);
    sendSqsError(
      res,
      new SqsError(
        'RequestEntityTooLarge',
        'RequestEntityTooLarge',
        `The request body is larger than ${limit} bytes: SQS takes at most ${SQS_MAX_MESSAGE_BYTES} bytes per message or batch.`,
        true,
        413,
      ),
    );
    return undefined;
  }
  const failure = await verifySigV4(
    { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body },
    credentials,
  );
  if (failure) {
    sendSqsError(res, new SqsError(failure.code, failure.code, failure.message, true, failure.status));
    return undefined;
  }
  return body;
}

/** Parses an SQS call's JSON body: it must be a JSON object (an empty body is `{}`). */
export function parseSqsInput(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (text.trim() === '') return {};
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    throw new SqsError('SerializationException', 'SerializationException', 'The request body is not JSON.');
  }
  if (!isObject(input)) {
    throw new SqsError(
      'SerializationException',
      'SerializationException',
      `The request body must be a JSON object, not ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}.`,
    );
  }
  return input;
}

/** Answers one (admitted) SQS endpoint call. */
export function serveSqs(
  backend: SqsBackend,
  baseUrl: string,
  req: IncomingMessage,
  res: ServerResponse,
  raw: Buffer,
): void {
  try {
    sendSqsResult(res, handleSqsAction(backend, baseUrl, sqsAction(req), parseSqsInput(raw)));
  } catch (error) {
    sendSqsFailure(res, error);
  }
}
