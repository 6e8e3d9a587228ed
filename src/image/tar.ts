/**
 * A reproducible tar writer (POSIX ustar) and a small streaming tar reader. The writer sorts entries, writes
 * every mtime as 0, owner 0:0 with empty user/group names and fixed modes, so the same files always give the
 * same bytes; `gzipReproducible` compresses without a file name or timestamp. The reader walks a (gzip)
 * layer to find one file, e.g. a base image's `/etc/passwd`, honouring pax and GNU long names and whiteouts.
 */
import { createGunzip, gzipSync } from 'node:zlib';

export interface TarEntry {
  /** Path inside the archive, relative, `/`-separated, no leading `/` (`app/index.mjs`). Directories end without `/`. */
  path: string;
  type: 'file' | 'dir';
  /** Permission bits; default 0o644 for files, 0o755 for directories. */
  mode?: number;
  data?: Uint8Array;
}

const BLOCK = 512;

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar: "${value}" is longer than ${length} bytes`);
  bytes.copy(header, offset);
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  // length - 1 octal digits, zero padded, then NUL.
  const text = value.toString(8).padStart(length - 1, '0');
  if (text.length > length - 1) throw new Error(`tar: ${value} does not fit a ${length}-byte field`);
  writeString(header, offset, length, `${text}\0`);
}

/** Splits a path into ustar `prefix` (≤155) and `name` (≤100) at a `/`. */
function splitPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name) return { name, prefix };
  }
  throw new Error(`tar: path ${path} is too long for a ustar header (name 100 + prefix 155 bytes)`);
}

function header(entry: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  const path = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const { name, prefix } = splitPath(path);
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644));
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, 0); // mtime: the epoch, always
  h.fill(0x20, 148, 156); // checksum field counts as spaces
  h[156] = entry.type === 'dir' ? 0x35 : 0x30; // '5' or '0'
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeOctal(h, 329, 8, 0); // devmajor
  writeOctal(h, 337, 8, 0); // devminor
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (const byte of h) sum += byte;
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/**
 * A tar archive of `entries`, sorted by path, with every parent directory present. Same entries → same bytes.
 */
export function createTar(entries: readonly TarEntry[]): Buffer {
  const byPath = new Map<string, TarEntry>();
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, '').replace(/\/+$/, '');
    if (!path || path.split('/').some((p) => p === '..' || p === '.' || p === ''))
      throw new Error(`tar: invalid entry path "${entry.path}"`);
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!byPath.has(dir)) byPath.set(dir, { path: dir, type: 'dir' });
    }
    byPath.set(path, { ...entry, path });
  }
  const sorted = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const chunks: Buffer[] = [];
  for (const entry of sorted) {
    const data = entry.type === 'file' ? Buffer.from(entry.data ?? new Uint8Array()) : Buffer.alloc(0);
    chunks.push(header(entry, data.length), data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) chunks.push(Buffer.alloc(pad, 0));
  }
  chunks.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(chunks);
}

/**
 * gzip with no file name and mtime 0 (node:zlib writes both that way) and the OS byte pinned to 255
 * ("unknown", as Go's compress/gzip writes it), so the header never depends on the machine.
 */
export function gzipReproducible(data: Uint8Array): Buffer {
  const out = gzipSync(data, { level: 9 });
  out[9] = 0xff;
  return out;
}

function readString(block: Buffer, offset: number, length: number): string {
  const slice = block.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? length : end).toString('utf8');
}

function readOctal(block: Buffer, offset: number, length: number): number {
  const first = block[offset] ?? 0;
  if (first & 0x80) {
    // base-256 (GNU) for big sizes
    let value = 0;
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + (block[i] ?? 0);
    return value;
  }
  const text = readString(block, offset, length).trim();
  return text ? Number.parseInt(text, 8) : 0;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space === -1) break;
    const len = Number.parseInt(data.subarray(i, space).toString('utf8'), 10);
    if (!len) break;
    const record = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

export interface TarFileHit {
  /** The file's content, or `undefined` when the layer deletes it (a whiteout). */
  data: Buffer | undefined;
}

/** `./etc/passwd`, `/etc/passwd`, `etc/passwd` → `etc/passwd`. */
function normalize(path: string): string {
  return path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
}

/**
 * Streams a tar (gzip when `gzip`) and returns the first entry named `wanted` (or its whiteout), or undefined
 * when the archive has neither. Stops reading as soon as it is found.
 */
export async function findInTar(
  source: AsyncIterable<Uint8Array>,
  wanted: string,
  gzip: boolean,
): Promise<TarFileHit | undefined> {
  const target = normalize(wanted);
  const slash = target.lastIndexOf('/');
  const whiteout = `${target.slice(0, slash + 1)}.wh.${target.slice(slash + 1)}`;
  let stream: AsyncIterable<Uint8Array> = source;
  let gunzip: ReturnType<typeof createGunzip> | undefined;
  if (gzip) {
    gunzip = createGunzip();
    const g = gunzip;
    (async () => {
      try {
        for await (const chunk of source) if (!g.write(chunk)) await new Promise((r) => g.once('drain', r));
        g.end();
      } catch (error) {
        g.destroy(error as Error);
      }
    })();
    stream = g;
  }
  let buffer = Buffer.alloc(0);
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  // state: waiting for a header, or skipping/collecting `remaining` bytes of an entry (+ padding)
  let need = BLOCK;
  let mode: 'header' | 'body' | 'skip' = 'header';
  let current: { name: string; type: string; size: number } | undefined;
  let body: Buffer[] = [];
  /** Drops what is buffered of an entry being skipped; back to headers once all of it has gone by. */
  const dropSkipped = (): void => {
    const drop = Math.min(need, buffer.length);
    buffer = buffer.subarray(drop);
    need -= drop;
    if (need === 0) {
      mode = 'header';
      need = BLOCK;
    }
  };
  try {
    for await (const chunk of stream) {
      buffer = buffer.length ? Buffer.concat([buffer, Buffer.from(chunk)]) : Buffer.from(chunk);
      // Entries we don't want are dropped as they stream by, never held in memory.
      if (mode === 'skip') dropSkipped();
      while (mode !== 'skip' && buffer.length >= need) {
        const piece = buffer.subarray(0, need);
        buffer = buffer.subarray(need);
        if (mode === 'header') {
          if (piece.every((b) => b === 0)) return undefined; // end of archive
          const type = String.fromCharCode(piece[156] ?? 0x30);
          const prefix = readString(piece, 345, 155);
          const rawName = readString(piece, 0, 100);
          const name = pax.path ?? longName ?? (prefix ? `${prefix}/${rawName}` : rawName);
          const size = pax.size ? Number(pax.size) : readOctal(piece, 124, 12);
          if (type !== 'x' && type !== 'L' && type !== 'g') {
            pax = {};
            longName = undefined;
          }
          current = { name: normalize(name), type, size };
          body = [];
          const padded = Math.ceil(size / BLOCK) * BLOCK;
          if (padded === 0) {
            const hit = settle();
            if (hit) return hit;
            continue;
          }
          const wantedEntry =
            type === 'x' || type === 'L' || current.name === target || current.name === whiteout;
          mode = wantedEntry ? 'body' : 'skip';
          need = padded;
          if (mode === 'skip') dropSkipped();
        } else {
          body.push(piece);
          mode = 'header';
          need = BLOCK;
          const hit = settle();
          if (hit) return hit;
        }
      }
    }
    return undefined;
  } finally {
    gunzip?.destroy();
  }

  function settle(): TarFileHit | undefined {
    if (!current) return undefined;
    const data = Buffer.concat(body).subarray(0, current.size);
    if (current.type === 'x') pax = parsePax(data);
    else if (current.type === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
    else if (current.name === whiteout) return { data: undefined };
    else if (current.name === target && (current.type === '0' || current.type === '\0'))
      return { data: Buffer.from(data) };
    return undefined;
  }
}
