/**
 * Bucket folders under `berth dev`: links never lead out of the bucket folder, keys are what S3 would keep,
 * and a file whose key S3 would refuse is reported instead of triggering a run under another key.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  folderKeyProblem,
  putObject,
  type S3ObjectCreatedEvent,
  s3KeyProblem,
  watchBuckets,
} from '../../../src/runtime/local/buckets.js';
import { REPO } from './harness.js';

let dir: string;
beforeEach(() => {
  dir = join(REPO, '.tmp', `buckets-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Watches bucket `in` with a short settle time; collects objects and reports. */
async function watching(buckets: string) {
  const objects: S3ObjectCreatedEvent[] = [];
  const reports: string[] = [];
  const watcher = await watchBuckets({
    bucketsDir: buckets,
    buckets: ['in'],
    stabilityMs: 50,
    onObject: (e) => objects.push(e),
    onError: (e) => reports.push(e.message),
  });
  return { objects, reports, watcher, keys: () => objects.map((o) => o.detail.object.key).sort() };
}

async function until(fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn() && Date.now() < end) await sleep(20);
}

describe('bucket folders and symbolic links', () => {
  it('does not follow a link to a file outside the bucket (/etc/passwd): reported, no event', async () => {
    const buckets = join(dir, 'buckets');
    mkdirSync(join(buckets, 'in'), { recursive: true });
    symlinkSync('/etc/passwd', join(buckets, 'in', 'passwd'));
    writeFileSync(join(buckets, 'in', 'ok.txt'), 'fine');
    const w = await watching(buckets);
    try {
      await until(() => w.objects.length >= 1 && w.reports.length >= 1);
      await sleep(300); // room for a wrong event to arrive
      expect(w.keys()).toEqual(['ok.txt']);
      expect(w.reports.join('\n')).toMatch(
        /passwd: not an object: a symbolic link to \/etc\/passwd, outside the bucket folder/,
      );
      // A link made while watching is refused too.
      symlinkSync('/etc/hostname', join(buckets, 'in', 'hostname'));
      await until(() => w.reports.some((r) => r.includes('/etc/hostname')));
      await sleep(200);
      expect(w.keys()).toEqual(['ok.txt']);
      expect(w.reports.some((r) => r.includes('/etc/hostname'))).toBe(true);
    } finally {
      await w.watcher.close();
    }
  }, 20_000);

  it('does not watch a linked folder outside the bucket, before or after start', async () => {
    const buckets = join(dir, 'buckets');
    const outside = join(dir, 'outside');
    mkdirSync(join(buckets, 'in'), { recursive: true });
    mkdirSync(join(outside, 'deep'), { recursive: true });
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    writeFileSync(join(outside, 'deep', 'more.txt'), 'more');
    symlinkSync(outside, join(buckets, 'in', 'linked'));
    writeFileSync(join(buckets, 'in', 'ok.txt'), 'fine');
    const w = await watching(buckets);
    try {
      await until(() => w.objects.length >= 1);
      writeFileSync(join(outside, 'later.txt'), 'written after start');
      await sleep(600);
      expect(w.keys()).toEqual(['ok.txt']);
    } finally {
      await w.watcher.close();
    }
  }, 20_000);

  it('follows a link whose target is a file inside the same bucket (the link is the key)', async () => {
    const buckets = join(dir, 'buckets');
    mkdirSync(join(buckets, 'in', 'raw'), { recursive: true });
    writeFileSync(join(buckets, 'in', 'raw', 'a.txt'), 'abc');
    symlinkSync(join(buckets, 'in', 'raw', 'a.txt'), join(buckets, 'in', 'latest.txt'));
    const w = await watching(buckets);
    try {
      await until(() => w.objects.length >= 2);
      await sleep(200);
      expect(w.keys()).toEqual(['latest.txt', 'raw/a.txt']);
      const latest = w.objects.find((o) => o.detail.object.key === 'latest.txt');
      // md5("abc"): the etag of the target's content.
      expect(latest?.detail.object.etag).toBe('900150983cd24fb0d6963f7d28e17f72');
      expect(latest?.detail.object.size).toBe(3);
      expect(w.reports).toEqual([]);
    } finally {
      await w.watcher.close();
    }
  }, 20_000);
});

describe('bucket keys as S3 keeps them', () => {
  it('keeps the path byte for byte: spaces, +, case, decomposed accents (no normalisation)', async () => {
    const buckets = join(dir, 'buckets');
    mkdirSync(join(buckets, 'in', 'Photos 2026'), { recursive: true });
    const nfd = 'cafe\u0301.jpg'; // "café" with a combining accent, as macOS may write it
    writeFileSync(join(buckets, 'in', 'Photos 2026', 'red+flower.JPG'), 'x');
    writeFileSync(join(buckets, 'in', nfd), 'y');
    const w = await watching(buckets);
    try {
      await until(() => w.objects.length >= 2);
      expect(w.keys()).toEqual(['Photos 2026/red+flower.JPG', nfd].sort());
      expect(w.keys()).not.toContain(nfd.normalize('NFC'));
    } finally {
      await w.watcher.close();
    }
  }, 20_000);

  it('reports a key longer than 1,024 bytes of UTF-8 instead of triggering', async () => {
    const buckets = join(dir, 'buckets');
    // Five folders of 120 "é" (2 bytes each in UTF-8 → 240 bytes a name): the key is over 1,024 bytes.
    const segs = Array.from({ length: 5 }, () => 'é'.repeat(120));
    const deep = join(buckets, 'in', ...segs);
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'f.txt'), 'x');
    writeFileSync(join(buckets, 'in', 'ok.txt'), 'fine');
    const w = await watching(buckets);
    try {
      await until(() => w.objects.length >= 1 && w.reports.length >= 1);
      await sleep(200);
      expect(w.keys()).toEqual(['ok.txt']);
      expect(w.reports[0]).toMatch(
        /S3 would refuse its key \(the key is 1\d{3} bytes of UTF-8; S3 keys are at most 1024/,
      );
    } finally {
      await w.watcher.close();
    }
  }, 20_000);

  it('reports a file name that is not UTF-8', async () => {
    const buckets = join(dir, 'buckets');
    mkdirSync(join(buckets, 'in'), { recursive: true });
    writeFileSync(
      Buffer.concat([
        Buffer.from(join(buckets, 'in', 'bad-')),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('.txt'),
      ]),
      'x',
    );
    const w = await watching(buckets);
    try {
      await until(() => w.reports.length >= 1);
      await sleep(200);
      expect(w.objects).toEqual([]);
      expect(w.reports[0]).toMatch(/its name is not UTF-8/);
      // One written while watching is reported as well.
      writeFileSync(
        Buffer.concat([
          Buffer.from(join(buckets, 'in', 'later-')),
          Buffer.from([0xc3, 0x28]),
          Buffer.from('.txt'),
        ]),
        'x',
      );
      await until(() => w.reports.length >= 2);
      expect(w.reports[1]).toMatch(/later-.*its name is not UTF-8/);
      expect(w.objects).toEqual([]);
    } finally {
      await w.watcher.close();
    }
  }, 20_000);

  it('checks keys like S3 (≤ 1,024 bytes of UTF-8) and refuses keys a folder would change', () => {
    expect(s3KeyProblem('a'.repeat(1024))).toBeUndefined();
    expect(s3KeyProblem('a'.repeat(1025))).toMatch(/1025 bytes/);
    expect(s3KeyProblem('é'.repeat(513))).toMatch(/1026 bytes/);
    expect(s3KeyProblem('')).toMatch(/empty/);
    expect(s3KeyProblem('a\uD800b')).toMatch(/not valid Unicode/);
    expect(folderKeyProblem('images/cat.jpg')).toBeUndefined();
    expect(folderKeyProblem('images//cat.jpg')).toMatch(/empty segment/);
    expect(folderKeyProblem('images/')).toMatch(/empty segment/);
    expect(folderKeyProblem('./cat.jpg')).toMatch(/\. segment/);
    expect(folderKeyProblem('a/../../etc/passwd')).toMatch(/\.\. segment/);
    expect(folderKeyProblem('/etc/passwd')).toMatch(/starts with \//);
    const source = join(dir, 'cat.jpg');
    writeFileSync(source, 'meow');
    expect(() => putObject(join(dir, 'buckets'), 'in', source, 'images//cat.jpg')).toThrow(
      /--key: "images\/\/cat.jpg" is not a valid key \(the key has an empty segment/,
    );
    expect(() => putObject(join(dir, 'buckets'), 'in', source, 'x'.repeat(1100))).toThrow(/1100 bytes/);
  });
});
