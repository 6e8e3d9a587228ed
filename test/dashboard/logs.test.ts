import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  incompleteUtf8Tail,
  leadingContinuationBytes,
  readLogChunk,
  readLogTail,
} from '../../src/dashboard/logs.js';

const dir = join(process.cwd(), '.tmp', `dashboard-logs-${process.pid}`);
mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('UTF-8 boundaries', () => {
  it('finds an incomplete character at the end', () => {
    const euro = Buffer.from('a€', 'utf8'); // 61 e2 82 ac
    expect(incompleteUtf8Tail(euro)).toBe(0);
    expect(incompleteUtf8Tail(euro.subarray(0, 3))).toBe(2);
    expect(incompleteUtf8Tail(euro.subarray(0, 2))).toBe(1);
    const emoji = Buffer.from('😀', 'utf8'); // 4 bytes
    expect(incompleteUtf8Tail(emoji.subarray(0, 3))).toBe(3);
    expect(incompleteUtf8Tail(emoji)).toBe(0);
  });

  it('skips continuation bytes at the start', () => {
    expect(leadingContinuationBytes(Buffer.from('€', 'utf8').subarray(1))).toBe(2);
    expect(leadingContinuationBytes(Buffer.from('abc'))).toBe(0);
  });
});

describe('readLogChunk', () => {
  it('reports a missing file as empty, then tails it as it grows', async () => {
    const file = join(dir, 'grow.log');
    expect(await readLogChunk(file, 0)).toEqual({ from: 0, offset: 0, text: '', size: 0, exists: false });
    writeFileSync(file, 'line 1\n');
    const first = await readLogChunk(file, 0);
    expect(first).toMatchObject({ text: 'line 1\n', offset: 7, exists: true });
    appendFileSync(file, 'line 2\n');
    const second = await readLogChunk(file, first.offset);
    expect(second).toMatchObject({ from: 7, text: 'line 2\n', offset: 14 });
    expect(await readLogChunk(file, second.offset)).toMatchObject({ text: '', offset: 14 });
  });

  it('never splits a multi-byte character between chunks', async () => {
    const file = join(dir, 'utf8.log');
    const text = 'ab€😀c한글\n'.repeat(50);
    writeFileSync(file, text);
    let offset = 0;
    let out = '';
    for (let i = 0; i < 1000 && offset < Buffer.byteLength(text); i++) {
      const chunk = await readLogChunk(file, offset, 5);
      expect(chunk.text).not.toContain('\uFFFD');
      out += chunk.text;
      offset = chunk.offset;
    }
    expect(out).toBe(text);
  });

  it('starts again from 0 when the file was truncated', async () => {
    const file = join(dir, 'trunc.log');
    writeFileSync(file, 'a long first version\n');
    writeFileSync(file, 'new\n');
    expect(await readLogChunk(file, 21)).toMatchObject({ from: 0, text: 'new\n', offset: 4 });
  });

  it('reads only the tail of a large log for the first render', async () => {
    const file = join(dir, 'big.log');
    writeFileSync(file, `${'x'.repeat(1000)}END`);
    const tail = await readLogTail(file, 10);
    expect(tail).toMatchObject({ from: 993, text: 'xxxxxxxEND', offset: 1003, size: 1003 });
  });
});
