/**
 * Attempt logs as lines, read in steps with an opaque cursor: the same shape whether the log is a local file
 * (`berth dev`, the cursor is a byte offset) or a CloudWatch Logs stream (`berth console --stage`, the cursor
 * is GetLogEvents' `nextForwardToken`). The dashboard tails a log by passing `next` back as `offset`.
 */
import { open } from 'node:fs/promises';

/** Where a line came from: the task's stdout or stderr, or berth itself (start, stop signal, stop reason). */
export type LogStream = 'stdout' | 'stderr' | 'berth';

export interface LogLine {
  stream: LogStream;
  text: string;
  /** When the line was written (ISO, UTC), when the log records it (CloudWatch does, a file does not). */
  at?: string;
}

export interface ReadLogOptions {
  /** The `next` cursor of an earlier read; without it the read starts `tail` lines before the end. */
  offset?: string;
  /** Without `offset`: how many lines from the end to return. @default DEFAULT_LOG_TAIL */
  tail?: number;
}

export interface LogRead {
  lines: LogLine[];
  /** Pass as `offset` to read on from here. */
  next: string;
  /** More is there already: read again without waiting. */
  more: boolean;
  /** Earlier lines exist that this read left out (a tail). */
  truncated: boolean;
  /** Whether the log exists yet (the file, the CloudWatch stream). */
  exists: boolean;
  /** The last line has no line break yet: the next read's first line continues it. */
  partial: boolean;
  /** The cursor no longer fits the log (a file cut short): these lines start over from the beginning. */
  reset: boolean;
}

/** Lines the first read of a log returns. */
export const DEFAULT_LOG_TAIL = 1000;
/** Largest number of bytes one read of a log file returns. */
export const MAX_LOG_READ_BYTES = 64 * 1024;
/** How far back from the end a tail read of a file looks. */
export const MAX_LOG_TAIL_BYTES = 256 * 1024;

/** berth's own lines in a log: the launcher's `[berth] …` header and `berth: …` notes (stop signal, reason). */
export function lineStream(text: string, fallback: LogStream = 'stdout'): LogStream {
  return text.startsWith('[berth] ') || text.startsWith('berth: ') ? 'berth' : fallback;
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
 * The mark `berth dev` puts before each line a task wrote to stderr (its attempt wrapper, in
 * src/runtime/local/launcher.ts, writes `\x1e<line>\n`): the reader turns it into `stream: 'stderr'`.
 */
export const STDERR_MARK = '\x1e';

/** One line of a file, split where a stderr line was written after output without a line break. */
function fileLines(t: string): LogLine[] {
  const at = t.indexOf(STDERR_MARK);
  if (at < 0) return [{ stream: lineStream(t), text: t }];
  const out: LogLine[] = at > 0 ? [{ stream: lineStream(t.slice(0, at)), text: t.slice(0, at) }] : [];
  out.push({ stream: 'stderr', text: t.slice(at + 1).replaceAll(STDERR_MARK, '') });
  return out;
}

function toLines(text: string): { lines: LogLine[]; partial: boolean } {
  if (text === '') return { lines: [], partial: false };
  const parts = text.split('\n');
  const partial = parts.at(-1) !== '';
  if (!partial) parts.pop();
  return { lines: parts.flatMap(fileLines), partial };
}

function parseOffset(offset: string): number {
  const n = Number(offset);
  if (!/^\d+$/.test(offset) || !Number.isSafeInteger(n)) {
    throw new RangeError(`log offset "${offset}" is not a byte offset — pass the "next" of an earlier read`);
  }
  return n;
}

/**
 * Reads an attempt's log file as lines. With `offset` (a byte offset from an earlier read) it reads on from
 * there, at most `MAX_LOG_READ_BYTES`; a multi-byte character cut by the end waits for the next read, an
 * offset past the end (the file was cut short) starts again from 0 with `reset`. Without, it returns the last
 * `tail` lines (looking back at most `MAX_LOG_TAIL_BYTES`).
 */
export async function readLogFile(
  path: string,
  options: ReadLogOptions = {},
  maxBytes = MAX_LOG_READ_BYTES,
): Promise<LogRead> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return {
        lines: [],
        next: options.offset ?? '0',
        more: false,
        truncated: false,
        exists: false,
        partial: false,
        reset: false,
      };
    }
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const tailMode = options.offset === undefined;
    const asked = tailMode ? Math.max(0, size - MAX_LOG_TAIL_BYTES) : parseOffset(options.offset as string);
    const reset = asked > size;
    let start = reset ? 0 : asked;
    const length = Math.min(tailMode ? MAX_LOG_TAIL_BYTES : maxBytes, size - start);
    if (length <= 0) {
      return {
        lines: [],
        next: String(start),
        more: false,
        truncated: false,
        exists: true,
        partial: false,
        reset,
      };
    }
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, start);
    let bytes = buf.subarray(0, bytesRead);
    let truncated = false;
    if (tailMode && start > 0) {
      // Start at a line boundary: drop the first, cut line.
      const nl = bytes.indexOf(0x0a);
      const skip = nl < 0 ? leadingContinuationBytes(bytes) : nl + 1;
      bytes = bytes.subarray(skip);
      start += skip;
      truncated = true;
    } else {
      const skip = leadingContinuationBytes(bytes);
      bytes = bytes.subarray(skip);
      start += skip;
    }
    // At the end of the file a cut character is only cut for now: wait for the rest of it.
    const keep = bytes.length - incompleteUtf8Tail(bytes);
    const end = start + keep;
    let { lines, partial } = toLines(bytes.subarray(0, keep).toString('utf8'));
    const tail = options.tail ?? DEFAULT_LOG_TAIL;
    if (tailMode && lines.length > tail) {
      lines = lines.slice(lines.length - tail);
      truncated = true;
    }
    return { lines, next: String(end), more: end < size, truncated, exists: true, partial, reset };
  } finally {
    await handle.close();
  }
}
