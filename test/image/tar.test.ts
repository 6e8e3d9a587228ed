/** The reproducible tar/gzip writer and the streaming tar reader, checked against GNU tar and gzip. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createTar, findInTar, gzipReproducible } from '../../src/image/tar.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function chunks(data: Buffer, size: number): AsyncIterable<Uint8Array> {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

describe('createTar', () => {
  it('gives the same bytes for the same files in any order, with parents, sorted, root-owned, mtime 0', () => {
    const a = createTar([
      { path: 'app/z.txt', type: 'file', data: Buffer.from('z') },
      { path: 'app/index.mjs', type: 'file', data: Buffer.from('console.log(1)') },
    ]);
    const b = createTar([
      { path: '/app/index.mjs', type: 'file', data: Buffer.from('console.log(1)') },
      { path: 'app/z.txt', type: 'file', data: Buffer.from('z') },
    ]);
    expect(a.equals(b)).toBe(true);
    expect(a.length % 512).toBe(0);
    const listing = execFileSync('tar', ['-tvf', '-', '--numeric-owner', '--full-time'], {
      input: a,
      encoding: 'utf8',
    });
    expect(listing.trim().split('\n')).toEqual([
      'drwxr-xr-x 0/0               0 1970-01-01 00:00:00 app/',
      '-rw-r--r-- 0/0              14 1970-01-01 00:00:00 app/index.mjs',
      '-rw-r--r-- 0/0               1 1970-01-01 00:00:00 app/z.txt',
    ]);
  });

  it('writes long paths with the ustar prefix, readable by GNU tar', () => {
    const deep = `${'d'.repeat(90)}/${'e'.repeat(60)}/file-with-a-long-name-${'f'.repeat(40)}.txt`;
    const tar = createTar([{ path: deep, type: 'file', data: Buffer.from('deep') }]);
    const out = mkdtempSync(join(tmpdir(), 'berth-tar-'));
    dirs.push(out);
    execFileSync('tar', ['-xf', '-', '-C', out], { input: tar });
    expect(readFileSync(join(out, deep), 'utf8')).toBe('deep');
  });

  it('refuses paths that escape the archive', () => {
    expect(() => createTar([{ path: 'app/../etc/passwd', type: 'file' }])).toThrow(/invalid entry path/);
  });
});

describe('gzipReproducible', () => {
  it('has no timestamp, no file name, a fixed OS byte, and gunzips with gzip(1)', () => {
    const data = createTar([{ path: 'app/index.mjs', type: 'file', data: Buffer.from('x'.repeat(5000)) }]);
    const gz = gzipReproducible(data);
    expect([...gz.subarray(0, 4)]).toEqual([0x1f, 0x8b, 0x08, 0x00]); // magic, deflate, FLG = 0: no FNAME
    expect(gz.readUInt32LE(4)).toBe(0); // MTIME
    expect(gz[9]).toBe(0xff); // OS: unknown
    expect(gzipReproducible(data).equals(gz)).toBe(true);
    expect(execFileSync('gzip', ['-dc'], { input: gz }).equals(data)).toBe(true);
  });
});

describe('findInTar', () => {
  it('finds a file in a gzip layer streamed in small chunks, and reports its whiteout', async () => {
    const tar = createTar([
      { path: 'bin/big', type: 'file', data: Buffer.alloc(70_000, 7) },
      { path: 'etc/passwd', type: 'file', data: Buffer.from('node:x:1000:1000::/home/node:/bin/sh\n') },
      { path: 'etc/zz', type: 'file', data: Buffer.from('zz') },
    ]);
    const hit = await findInTar(chunks(gzipReproducible(tar), 333), '/etc/passwd', true);
    expect(hit?.data?.toString()).toBe('node:x:1000:1000::/home/node:/bin/sh\n');
    const whiteout = createTar([{ path: 'etc/.wh.passwd', type: 'file' }]);
    expect(await findInTar(chunks(whiteout, 512), 'etc/passwd', false)).toEqual({ data: undefined });
    const none = createTar([{ path: 'etc/group', type: 'file', data: Buffer.from('g') }]);
    expect(await findInTar(chunks(none, 100), 'etc/passwd', false)).toBeUndefined();
  });

  it('reads pax and GNU long names written by GNU tar, and ./-prefixed paths', async () => {
    const src = mkdtempSync(join(tmpdir(), 'berth-tar-src-'));
    dirs.push(src);
    const long = `${'x'.repeat(120)}/passwd`;
    mkdirSync(join(src, 'x'.repeat(120)), { recursive: true });
    writeFileSync(join(src, long), 'long\n');
    mkdirSync(join(src, 'etc'));
    writeFileSync(join(src, 'etc', 'passwd'), 'short\n');
    for (const format of ['pax', 'gnu']) {
      const tar = execFileSync('tar', ['-cf', '-', `--format=${format}`, '-C', src, '.']);
      expect((await findInTar(chunks(tar, 700), long, false))?.data?.toString()).toBe('long\n');
      expect((await findInTar(chunks(tar, 4096), 'etc/passwd', false))?.data?.toString()).toBe('short\n');
    }
  });
});
