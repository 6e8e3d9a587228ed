import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  incompleteUtf8Tail,
  leadingContinuationBytes,
  lineStream,
  logLinesHtml,
  readLogFile,
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

const texts = (r: { lines: { text: string }[] }) => r.lines.map((l) => l.text);

describe('readLogFile', () => {
  it('reports a missing file as empty, then tails it as it grows', async () => {
    const file = join(dir, 'grow.log');
    expect(await readLogFile(file)).toMatchObject({ lines: [], next: '0', exists: false, more: false });
    writeFileSync(file, 'line 1\n');
    const first = await readLogFile(file, { offset: '0' });
    expect(first).toMatchObject({ next: '7', exists: true, partial: false, reset: false });
    expect(texts(first)).toEqual(['line 1']);
    appendFileSync(file, 'line 2\npart');
    const second = await readLogFile(file, { offset: first.next });
    expect(texts(second)).toEqual(['line 2', 'part']);
    expect(second).toMatchObject({ next: '18', partial: true });
    appendFileSync(file, 'ial\n');
    const third = await readLogFile(file, { offset: second.next });
    expect(texts(third)).toEqual(['ial']);
    expect(third.partial).toBe(false);
    expect(await readLogFile(file, { offset: third.next })).toMatchObject({ lines: [], next: '22' });
  });

  it("marks berth's own lines", async () => {
    const file = join(dir, 'streams.log');
    writeFileSync(file, '[berth] job run r1 attempt 1: node x.js\nhello\nberth: sent SIGTERM (timeout)\n');
    const read = await readLogFile(file);
    expect(read.lines.map((l) => l.stream)).toEqual(['berth', 'stdout', 'berth']);
    expect(lineStream('ok')).toBe('stdout');
  });

  it('never splits a multi-byte character between reads', async () => {
    const file = join(dir, 'utf8.log');
    const text = 'ab€😀c한글\n'.repeat(50);
    writeFileSync(file, text);
    let offset = '0';
    let out = '';
    for (let i = 0; i < 1000 && Number(offset) < Buffer.byteLength(text); i++) {
      const read = await readLogFile(file, { offset }, 5);
      for (const l of read.lines) expect(l.text).not.toContain('\uFFFD');
      // A read after a partial line continues it: the lines join back into the file's text.
      out += texts(read).join('\n') + (read.lines.length && !read.partial ? '\n' : '');
      offset = read.next;
    }
    expect(out).toBe(text);
  });

  it('starts again from 0 with reset when the file was cut short', async () => {
    const file = join(dir, 'trunc.log');
    writeFileSync(file, 'a long first version\n');
    writeFileSync(file, 'new\n');
    const read = await readLogFile(file, { offset: '21' });
    expect(read).toMatchObject({ reset: true, next: '4' });
    expect(texts(read)).toEqual(['new']);
  });

  it('reads only the last lines of a large log for the first render', async () => {
    const file = join(dir, 'big.log');
    writeFileSync(file, Array.from({ length: 3000 }, (_, i) => `line ${i}`).join('\n') + '\nEND');
    const tail = await readLogFile(file, { tail: 3 });
    expect(texts(tail)).toEqual(['line 2998', 'line 2999', 'END']);
    expect(tail).toMatchObject({ truncated: true, partial: true, more: false });
    const short = await readLogFile(join(dir, 'grow.log'));
    expect(short.truncated).toBe(false);
  });

  it('rejects a cursor that is not a byte offset', async () => {
    await expect(readLogFile(join(dir, 'grow.log'), { offset: '-1' })).rejects.toThrow(/not a byte offset/);
  });
});

describe('logLinesHtml', () => {
  it('escapes each line and ends a partial last line without a break', () => {
    const lines = [
      { stream: 'stdout' as const, text: '<b>' },
      { stream: 'stderr' as const, text: 'oops' },
    ];
    expect(logLinesHtml(lines, true).value).toBe(
      '<span class="ln" data-stream="stdout">&lt;b&gt;</span>\n<span class="ln" data-stream="stderr">oops</span>',
    );
    expect(logLinesHtml(lines, false).value.endsWith('</span>\n')).toBe(true);
  });
});
