/** Reads attempt logs in chunks by byte offset, so the page can tail a growing file. */
import { open } from 'node:fs/promises';

/** Largest chunk one request returns. */
export const MAX_LOG_CHUNK = 64 * 1024;
/** How much of the end of a log the run page shows before tailing. */
export const INITIAL_LOG_TAIL = 256 * 1024;

export interface LogChunk {
  /** Byte offset where `text` starts. */
  from: number;
  /** Byte offset to ask for next. */
  offset: number;
  text: string;
  /** File size when read; 0 when the file does not exist yet. */
  size: number;
  exists: boolean;
}

/** Bytes at the end of `buf` that start a UTF-8 sequence not yet complete (0–3). */
export function incompleteUtf8Tail(buf: Uint8Array): number {
  // Walk back over at most 3 continuation bytes to the lead byte of the last sequence.
  for (let back = 1; back <= Math.min(4, buf.length); back++) {
    const byte = buf[buf.length - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/** Continuation bytes at the start of `buf` (a chunk that began inside a character). */
export function leadingContinuationBytes(buf: Uint8Array): number {
  let n = 0;
  while (n < Math.min(3, buf.length) && ((buf[n] ?? 0) & 0xc0) === 0x80) n++;
  return n;
}

/**
 * Reads up to `max` bytes from `offset`. A multi-byte character cut by the chunk end is left for the next
 * read; an `offset` past the end (the file was truncated) starts again from 0.
 */
export async function readLogChunk(path: string, offset: number, max = MAX_LOG_CHUNK): Promise<LogChunk> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { from: offset, offset, text: '', size: 0, exists: false };
    }
    throw error;
  }
  try {
    const { size } = await handle.stat();
    let start = offset > size ? 0 : Math.max(0, offset);
    const length = Math.min(max, size - start);
    if (length <= 0) return { from: start, offset: start, text: '', size, exists: true };
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, start);
    let bytes = buf.subarray(0, bytesRead);
    const skip = leadingContinuationBytes(bytes);
    bytes = bytes.subarray(skip);
    start += skip;
    // At the end of the file a cut character is only cut for now: wait for the rest of it.
    const keep = bytes.length - incompleteUtf8Tail(bytes);
    const text = bytes.subarray(0, keep).toString('utf8');
    return { from: start, offset: start + keep, text, size, exists: true };
  } finally {
    await handle.close();
  }
}

/** The last `tail` bytes of a log (from a character boundary), for the first render of a run page. */
export async function readLogTail(path: string, tail = INITIAL_LOG_TAIL): Promise<LogChunk> {
  let size = 0;
  try {
    const handle = await open(path, 'r');
    try {
      size = (await handle.stat()).size;
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { from: 0, offset: 0, text: '', size: 0, exists: false };
    }
    throw error;
  }
  return readLogChunk(path, Math.max(0, size - tail), tail);
}
