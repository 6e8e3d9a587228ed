/**
 * Request bodies with a cap: bytes are counted as they arrive and kept only up to the cap, so an oversized
 * POST costs the engine at most the cap in memory. The rest of an oversized body is read and thrown away
 * before the caller answers (413): Node stops reading a request once its answer is sent, and a client still
 * sending would then see its connection hang or reset instead of reading the answer. A body past
 * `maxDiscardBytes` or `maxDiscardMs` is not waited for: the error says so (`drained: false`) and the caller
 * closes the connection after answering.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How much of an oversized body is read (and dropped) so the client can read the 413. */
export const MAX_DISCARD_BYTES = 512 * 1024 * 1024;
export const MAX_DISCARD_MS = 10_000;

export class BodyTooLargeError extends Error {
  constructor(
    readonly limit: number,
    /** False when the client was still sending after the discard limits: close the connection. */
    readonly drained: boolean,
  ) {
    super(`the request body is larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** Reads the whole body, or rejects with `BodyTooLargeError` once an oversized one has been sent (dropped). */
export function readCappedBody(
  req: IncomingMessage,
  limit: number,
  discard: { maxBytes?: number; maxMs?: number } = {},
): Promise<Buffer> {
  const maxDiscardBytes = discard.maxBytes ?? MAX_DISCARD_BYTES;
  const maxDiscardMs = discard.maxMs ?? MAX_DISCARD_MS;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    let timer: NodeJS.Timeout | undefined;
    const tooLarge = (drained: boolean) => {
      cleanup();
      reject(new BodyTooLargeError(limit, drained));
    };
    const overflow = () => {
      over = true;
      chunks.length = 0;
      timer = setTimeout(() => tooLarge(false), maxDiscardMs);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (over) {
        if (size > maxDiscardBytes) tooLarge(false);
        return;
      }
      if (size > limit) overflow();
      else chunks.push(chunk);
    };
    const onEnd = () => {
      if (over) return tooLarge(true);
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onAborted = () => onError(new Error('the client closed the request'));
    const cleanup = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      if (declared > maxDiscardBytes) return tooLarge(false);
      overflow();
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** Call before answering a `BodyTooLargeError` that was not drained: the connection closes after the answer. */
export function closeAfterAnswer(error: BodyTooLargeError, res: ServerResponse): void {
  if (error.drained) return;
  res.setHeader('connection', 'close');
  res.once('finish', () => res.socket?.destroySoon?.());
}
