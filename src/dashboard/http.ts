/** Response helpers: every response carries the same defensive headers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readCappedBody } from '../runtime/local/body.js';
import type { Html } from './html.js';

/**
 * Scripts and styles only from this server, no inline script, no framing, no plug-ins. Style attributes
 * are not needed: the script sets bar widths through the CSSOM, which CSP allows.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  // Pages hold the token and live data: never cache them.
  'Cache-Control': 'no-store',
};

export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(body)),
    ...extra,
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`);
}

export function sendHtml(res: ServerResponse, status: number, body: Html): void {
  send(res, status, 'text/html; charset=utf-8', body.value);
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Largest request body an action accepts (a payload for Run now). */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads a JSON body; an empty body is `undefined`. Bytes are counted as they arrive and kept only up to
 * `limit` (413); the rest of an oversized body is read and dropped so the client reads the answer.
 */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  let raw: Buffer;
  try {
    raw = await readCappedBody(req, limit);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    throw new HttpError(413, `the request body is larger than ${limit} bytes`);
  }
  const text = raw.toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'the request body is not JSON — send a JSON object such as {"payload": {}}');
  }
}
