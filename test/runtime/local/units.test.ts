import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeTriggers } from '../../../src/core/model/job.js';
import { s3TriggerSchema } from '../../../src/core/model/trigger.js';
import { validateJob } from '../../../src/core/model/validate.js';
import { newAttemptRecord, newRunRecord } from '../../../src/runtime/lifecycle.js';
import {
  matchesS3Trigger,
  objectCreatedEvent,
  putObject,
  type S3ObjectCreatedEvent,
  sequencerFor,
  settleDelay,
  watchBuckets,
} from '../../../src/runtime/local/buckets.js';
import { type Db, DevDbError, MIGRATIONS, openDevDb } from '../../../src/runtime/local/db.js';
import { dockerRunArgv } from '../../../src/runtime/local/docker.js';
import { dlqName, md5Hex, SqliteQueues } from '../../../src/runtime/local/queue.js';
import { handleSqsAction } from '../../../src/runtime/local/sqs.js';
import { SqliteRunStore } from '../../../src/runtime/local/store.js';
import type { RunRecord } from '../../../src/runtime/ports.js';
import { REPO } from './harness.js';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = join(REPO, '.tmp', `units-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  db = openDevDb(join(dir, 'dev.db'));
});
afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('dev database', () => {
  it('is WAL with a versioned migration table', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM migrations ORDER BY version').all()).toEqual([
      { version: 1 },
      { version: 2 },
      { version: 3 },
      { version: 4 },
    ]);
    db.close();
    db = openDevDb(join(dir, 'dev.db')); // reopening migrates nothing twice
    expect(db.prepare('SELECT COUNT(*) AS n FROM migrations').get()).toEqual({ n: 4 });
  });

  it('upgrades a version 1 file: replayed_by becomes the replay’s replay_of, and the data stays', async () => {
    // A dev.db exactly as a berth with only migration 1 left it, with a run replayed by another.
    const file = join(dir, 'v1.db');
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
      INSERT INTO meta (key, value) VALUES ('app', 'berth-dev');
      INSERT INTO migrations (version, name, applied_at) VALUES (1, 'v1', '2026-01-01T00:00:00.000Z');`);
    old.exec(MIGRATIONS[0]?.sql ?? '');
    const insert = old.prepare(
      `INSERT INTO runs (run_id, job, status, attempt, max_attempts, trigger, trigger_kind, idempotency_key, created_at, updated_at, dead_lettered, replayed_by)
       VALUES (?, 'j', ?, 1, 1, '{"kind":"manual","requestId":"q"}', 'manual', ?, ?, ?, ?, ?)`,
    );
    insert.run('rorig', 'failed', 'k1', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 1, 'rnew');
    insert.run('rnew', 'succeeded', 'k2', '2026-01-01T00:01:00.000Z', '2026-01-01T00:01:00.000Z', 0, null);
    insert.run('rlone', 'failed', 'k3', '2026-01-01T00:02:00.000Z', '2026-01-01T00:02:00.000Z', 0, null);
    old.close();

    const upgraded = openDevDb(file);
    try {
      expect(upgraded.prepare('SELECT version FROM migrations ORDER BY version').all()).toEqual([
        { version: 1 },
        { version: 2 },
        { version: 3 },
        { version: 4 },
      ]);
      const columns = (upgraded.pragma('table_info(runs)') as { name: string }[]).map((c) => c.name);
      expect(columns).toContain('replay_of');
      expect(columns).not.toContain('replayed_by');
      const s = new SqliteRunStore(upgraded);
      expect((await s.getRun('rnew'))?.replayOf).toBe('rorig');
      expect(await s.getRun('rorig')).toMatchObject({ replayOf: null, status: 'failed', deadLettered: true });
      expect(s.replayedBy('rorig')).toBe('rnew');
      expect(s.replayedBy('rlone')).toBeNull();
      expect(s.unreplayedFailures('j').map((r) => r.runId)).toEqual(['rlone']);
    } finally {
      upgraded.close();
    }
    // A second open finds nothing left to do.
    openDevDb(file).close();
  });

  it('refuses a corrupt file, a foreign SQLite database and a newer schema', () => {
    writeFileSync(join(dir, 'junk.db'), 'this is not sqlite at all, just text '.repeat(200));
    expect(() => openDevDb(join(dir, 'junk.db'))).toThrow(
      /is not a SQLite database or is corrupt — move it away/,
    );
    const foreign = new Database(join(dir, 'foreign.db'));
    foreign.exec('CREATE TABLE customers (id INTEGER)');
    foreign.close();
    expect(() => openDevDb(join(dir, 'foreign.db'))).toThrow(DevDbError);
    expect(() => openDevDb(join(dir, 'foreign.db'))).toThrow(/another program \(tables: customers\)/);
    db.prepare(`INSERT INTO migrations (version, name, applied_at) VALUES (99, 'future', 'x')`).run();
    db.close();
    expect(() => openDevDb(join(dir, 'dev.db'))).toThrow(/newer berth \(schema 99/);
  });
});

describe('SQLite queues (SQS semantics)', () => {
  it('hides a received message for its visibility timeout and counts receives', () => {
    const q = new SqliteQueues(db);
    q.send('a', 'one', { now: 1000 });
    const [m1] = q.receive('a', { max: 10, visibilityMs: 500, now: 1000 });
    expect(m1).toMatchObject({ body: 'one', receiveCount: 1 });
    expect(q.receive('a', { max: 10, visibilityMs: 500, now: 1499 })).toEqual([]);
    const [m2] = q.receive('a', { max: 10, visibilityMs: 500, now: 1500 });
    expect(m2?.receiveCount).toBe(2);
    expect(q.delete(m1?.receiptHandle as string)).toBe(false); // stale receipt
    expect(q.delete(m2?.receiptHandle as string)).toBe(true);
    expect(q.receive('a', { max: 10, visibilityMs: 500, now: 5000 })).toEqual([]);
  });

  it('delays, batches oldest first, and dead-letters after maxReceiveCount', () => {
    const q = new SqliteQueues(db);
    q.send('a', 'late', { now: 0, delayMs: 1000 });
    for (const b of ['x', 'y', 'z']) q.send('a', b, { now: 0 });
    expect(q.stats('a', 0)).toEqual({ visible: 3, inFlight: 0, delayed: 1, deadLetter: 0 });
    expect(q.receive('a', { max: 2, visibilityMs: 10, now: 0 }).map((m) => m.body)).toEqual(['x', 'y']);
    expect(q.stats('a', 0)).toEqual({ visible: 1, inFlight: 2, delayed: 1, deadLetter: 0 });
    expect(
      q
        .receive('a', { max: 10, visibilityMs: 10, now: 1000 })
        .map((m) => m.body)
        .sort(),
    ).toEqual(['late', 'x', 'y', 'z']);
    // x and y were delivered twice already: they move to the DLQ; z and late get their second delivery.
    expect(
      q
        .receive('a', { max: 10, visibilityMs: 10, now: 2000, maxReceiveCount: 2 })
        .map((m) => m.body)
        .sort(),
    ).toEqual(['late', 'z']);
    expect(q.stats('a', 2000).deadLetter).toBe(2);
    // Then z and late follow.
    expect(q.receive('a', { max: 10, visibilityMs: 10, now: 3000, maxReceiveCount: 2 })).toEqual([]);
    expect(q.stats('a', 3000).deadLetter).toBe(4);
    expect(q.deadLetters('a').map((m) => m.receiveCount)).toEqual([2, 2, 2, 2]);
    expect(q.redriveDeadLetters('a', 3000)).toBe(4);
    expect(q.receive('a', { max: 10, visibilityMs: 10, now: 3000, maxReceiveCount: 2 })).toHaveLength(4);
    expect(q.stats(dlqName('a'), 3000).visible).toBe(0);
  });

  it('releases a dead engine’s in-flight messages', () => {
    const q = new SqliteQueues(db);
    q.send('l', 'x', { now: 0 });
    q.receive('l', { max: 1, visibilityMs: 60_000, now: 0 });
    expect(q.releaseInFlight('l', 10)).toBe(1);
    expect(q.receive('l', { max: 1, visibilityMs: 1, now: 10 })).toHaveLength(1);
  });

  it('answers the MD5 of the body like SQS', () => {
    expect(new SqliteQueues(db).send('a', 'hello').md5OfBody).toBe(md5Hex('hello'));
    expect(md5Hex('hello')).toBe('5d41402abc4b2a76b9719d911017c592');
  });
});

function run(id: string, patch: Partial<RunRecord> = {}): RunRecord {
  return newRunRecord({
    runId: id,
    job: 'j',
    status: 'queued',
    maxAttempts: 3,
    trigger: { kind: 's3', bucket: 'b', key: 'images/cat.jpg', size: 1, time: 't' },
    idempotencyKey: id,
    createdAt: '2026-01-01T00:00:00.000Z',
    ...patch,
  });
}

describe('SqliteRunStore', () => {
  it('creates a run once and applies conditional transitions only from the given states and attempt', async () => {
    const s = new SqliteRunStore(db);
    expect(await s.createRun(run('r1'))).toBe(true);
    expect(await s.createRun(run('r1'))).toBe(false);
    expect(await s.transition('r1', ['running'], { status: 'succeeded' })).toBe(false);
    expect(await s.transition('r1', ['queued'], { status: 'launching' }, { attempt: 2 })).toBe(false);
    expect(
      await s.transition('r1', ['queued'], { status: 'launching', deadLettered: true }, { attempt: 1 }),
    ).toBe(true);
    expect(await s.getRun('r1')).toMatchObject({
      status: 'launching',
      deadLettered: true,
      trigger: { key: 'images/cat.jpg' },
    });
  });

  it('keeps replayOf and derives the replays of a run from it', async () => {
    const s = new SqliteRunStore(db);
    await s.createRun(run('rorig', { status: 'failed' }));
    await s.createRun(run('rother', { status: 'timed_out', createdAt: '2026-01-01T00:00:30.000Z' }));
    expect(s.replayedBy('rorig')).toBeNull();
    expect(s.unreplayedFailures('j').map((r) => r.runId)).toEqual(['rorig', 'rother']);
    await s.createRun(run('rb', { replayOf: 'rorig', createdAt: '2026-01-01T00:01:00.000Z' }));
    await s.createRun(run('rc', { replayOf: 'rorig', createdAt: '2026-01-01T00:02:00.000Z' }));
    expect((await s.getRun('rb'))?.replayOf).toBe('rorig');
    expect((await s.getRun('rorig'))?.replayOf).toBeNull();
    expect(s.replayedBy('rorig')).toBe('rb');
    expect((await s.listRuns({ replayOf: 'rorig' })).map((r) => r.runId)).toEqual(['rc', 'rb']);
    expect(s.unreplayedFailures('j').map((r) => r.runId)).toEqual(['rother']);
  });

  it('takes at most max concurrency slots, idempotently per run', async () => {
    const s = new SqliteRunStore(db);
    expect(await s.acquireSlot('j', 'a', 2)).toBe(true);
    expect(await s.acquireSlot('j', 'a', 2)).toBe(true);
    expect(await s.acquireSlot('j', 'b', 2)).toBe(true);
    expect(await s.acquireSlot('j', 'c', 2)).toBe(false);
    await s.releaseSlot('j', 'a');
    expect(await s.acquireSlot('j', 'c', 2)).toBe(true);
  });

  it('ends an attempt once (dedupe of repeated stops) and searches by run id or S3 key', async () => {
    const s = new SqliteRunStore(db);
    await s.createRun(run('rabc'));
    await s.createRun(
      run('rxyz', { trigger: { kind: 'manual', requestId: 'q' }, createdAt: '2026-01-02T00:00:00.000Z' }),
    );
    await s.createAttempt(
      newAttemptRecord({ runId: 'rabc', attempt: 1, status: 'running', capacity: 'local', launchedAt: 'x' }),
    );
    expect(await s.updateAttempt('rabc', 1, { status: 'ended', exitCode: 0 }, { onlyIfNotEnded: true })).toBe(
      true,
    );
    expect(await s.updateAttempt('rabc', 1, { status: 'ended', exitCode: 1 }, { onlyIfNotEnded: true })).toBe(
      false,
    );
    expect((await s.listAttempts('rabc'))[0]?.exitCode).toBe(0);
    expect((await s.listRuns({ search: 'cat.jpg' })).map((r) => r.runId)).toEqual(['rabc']);
    expect((await s.listRuns({ search: 'xyz' })).map((r) => r.runId)).toEqual(['rxyz']);
    expect((await s.listRuns({})).map((r) => r.runId)).toEqual(['rxyz', 'rabc']);
  });
});

describe('bucket folders', () => {
  const trig = (input: object) => s3TriggerSchema.parse({ bucket: 'uploads', ...input });
  const ev = (key: string, bucket = 'uploads') =>
    objectCreatedEvent({ bucket, key, size: 3, etag: 'e', mtimeMs: 1 });

  it('builds the EventBridge Object Created shape', () => {
    const e = objectCreatedEvent({
      bucket: 'uploads',
      key: 'images/a b+c.jpg',
      size: 5,
      etag: 'b1946ac92492d2347c6235b4d2611184',
      mtimeMs: 1_700_000_000_123.4,
    });
    expect(e).toMatchObject({
      version: '0',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '123456789012',
      resources: ['arn:aws:s3:::uploads'],
      detail: {
        version: '0',
        bucket: { name: 'uploads' },
        object: { key: 'images/a b+c.jpg', size: 5, etag: 'b1946ac92492d2347c6235b4d2611184' },
        reason: 'PutObject',
      },
    });
    expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(e.detail.object.sequencer).toBe(sequencerFor(1_700_000_000_123.4));
    expect(sequencerFor(2) > sequencerFor(1)).toBe(true);
  });

  it('counts a file as written once its mtime is stabilityMs old; a whole-second mtime waits in full', () => {
    const now = 1_700_000_000_500.25;
    expect(settleDelay({ mtimeMs: now - 100.5 }, 100, now)).toBe(0);
    expect(settleDelay({ mtimeMs: now - 30.25 }, 100, now)).toBe(70);
    expect(settleDelay({ mtimeMs: now + 5.25 }, 100, now)).toBe(106);
    expect(settleDelay({ mtimeMs: 1_700_000_000_000 }, 100, now)).toBe(100);
  });

  it('berth put dates its object back, so the watcher sees it at once; a file written in place waits until it stops changing', async () => {
    const buckets = join(dir, 'buckets');
    const seen: { key: string; at: number; event: S3ObjectCreatedEvent }[] = [];
    const stabilityMs = 1500;
    const watcher = await watchBuckets({
      bucketsDir: buckets,
      buckets: ['in'],
      stabilityMs,
      onObject: (event) => seen.push({ key: event.detail.object.key, at: Date.now(), event }),
    });
    try {
      const source = join(dir, 'cat.jpg');
      writeFileSync(source, 'meow');
      const put0 = Date.now();
      const target = putObject(buckets, 'in', source, 'images/cat.jpg');
      expect(statSync(target).mtimeMs).toBeLessThanOrEqual(put0 - 900);
      const written0 = Date.now();
      writeFileSync(join(buckets, 'in', 'live.txt'), 'part 1');
      const deadline = Date.now() + 10_000;
      while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const cat = seen.find((s) => s.key === 'images/cat.jpg');
      const live = seen.find((s) => s.key === 'live.txt');
      expect(cat && cat.at - put0).toBeLessThan(stabilityMs);
      expect(live && live.at - written0).toBeGreaterThanOrEqual(stabilityMs - 20);
      expect(cat?.event.detail.object.size).toBe(4);
      expect(seen).toHaveLength(2);
      // Putting the same file again is a new event with a greater sequencer, seen at once too.
      await new Promise((r) => setTimeout(r, 5));
      const put1 = Date.now();
      putObject(buckets, 'in', source, 'images/cat.jpg');
      while (seen.length < 3 && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toHaveLength(3);
      expect(seen[2]?.key).toBe('images/cat.jpg');
      expect((seen[2]?.at ?? Number.POSITIVE_INFINITY) - put1).toBeLessThan(stabilityMs);
      expect(
        (seen[2]?.event.detail.object.sequencer ?? '') > (cat?.event.detail.object.sequencer ?? 'Z'),
      ).toBe(true);
    } finally {
      await watcher.close();
    }
  }, 20_000);

  it('matches prefix and suffix like the EventBridge rule (case-sensitive, prefix*suffix)', () => {
    const t = trig({ prefix: 'images/', suffix: '.jpg' });
    expect(matchesS3Trigger(t, ev('images/cat.jpg'))).toBe(true);
    expect(matchesS3Trigger(t, ev('images/.jpg'))).toBe(true); // * matches nothing
    expect(matchesS3Trigger(t, ev('images/cat.JPG'))).toBe(false);
    expect(matchesS3Trigger(t, ev('Images/cat.jpg'))).toBe(false);
    expect(matchesS3Trigger(t, ev('x/images/cat.jpg'))).toBe(false);
    expect(matchesS3Trigger(t, ev('images/cat.jpg', 'other'))).toBe(false);
    const overlap = trig({ prefix: 'ab', suffix: 'ba' });
    expect(matchesS3Trigger(overlap, ev('aba'))).toBe(false); // `ab*ba` needs four characters
    expect(matchesS3Trigger(overlap, ev('abba'))).toBe(true);
    expect(matchesS3Trigger(trig({}), ev('anything'))).toBe(true);
  });
});

describe('docker driver argv', () => {
  it('passes image, environment, cpu/memory limits, volumes, entry point and command', () => {
    const parsed = validateJob(
      {
        name: 'thumb',
        task: {
          image: 'public.ecr.aws/docker/library/node:22-alpine',
          entryPoint: ['node', '--enable-source-maps'],
          command: ['tasks/thumb.mjs'],
          cpu: 512,
          memory: 1024,
          architecture: 'arm64',
          volumes: [{ fileSystemId: 'fs-0123456789abcdef0', mountPath: '/mnt/data', readOnly: true }],
        },
      },
      'jobs/thumb.ts',
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const argv = dockerRunArgv({
      job: parsed.job,
      runId: 'rabc',
      attempt: 2,
      environment: { BERTH_RUN_ID: 'rabc', A: '1' },
      volumesDir: '/p/.berth/volumes',
    });
    expect(argv).toEqual([
      'run',
      '--rm',
      '--name',
      'berth-rabc-2',
      '--label',
      'berth.job=thumb',
      '--label',
      'berth.run=rabc',
      '--label',
      'berth.attempt=2',
      '--cpus',
      '0.5',
      '--memory',
      '1024m',
      '--platform',
      'linux/arm64',
      '--env',
      'A=1',
      '--env',
      'BERTH_RUN_ID=rabc',
      '--volume',
      '/p/.berth/volumes/fs-0123456789abcdef0:/mnt/data:ro',
      '--entrypoint',
      'node',
      'public.ecr.aws/docker/library/node:22-alpine',
      '--enable-source-maps',
      'tasks/thumb.mjs',
    ]);
    expect(normalizeTriggers({})).toEqual([]);
  });
});

describe('SQS JSON-protocol handler', () => {
  const backend = {
    hasQueue: (n: string) => n === 'orders',
    send: (_n: string, body: string) => ({ messageId: 'm', md5OfBody: md5Hex(body) }),
    stats: () => ({ visible: 1, inFlight: 2, delayed: 3, deadLetter: 0 }),
  };
  const base = 'http://127.0.0.1:1';
  it('validates like SQS', () => {
    expect(handleSqsAction(backend, base, 'GetQueueUrl', { QueueName: 'orders' })).toEqual({
      QueueUrl: `${base}/123456789012/orders`,
    });
    expect(() =>
      handleSqsAction(backend, base, 'SendMessage', {
        QueueUrl: `${base}/123456789012/nope`,
        MessageBody: 'x',
      }),
    ).toThrow('The specified queue does not exist.');
    expect(() =>
      handleSqsAction(backend, base, 'SendMessage', {
        QueueUrl: `${base}/1/orders`,
        MessageBody: 'x',
        DelaySeconds: 901,
      }),
    ).toThrow(/DelaySeconds is invalid/);
    expect(() =>
      handleSqsAction(backend, base, 'SendMessageBatch', { QueueUrl: `${base}/1/orders`, Entries: [] }),
    ).toThrow(/at least one/);
    expect(() =>
      handleSqsAction(backend, base, 'SendMessageBatch', {
        QueueUrl: `${base}/1/orders`,
        Entries: [
          { Id: 'a', MessageBody: 'x' },
          { Id: 'a', MessageBody: 'y' },
        ],
      }),
    ).toThrow(/same Id/);
    const r = handleSqsAction(backend, base, 'SendMessageBatch', {
      QueueUrl: `${base}/1/orders`,
      Entries: [
        { Id: 'a', MessageBody: 'x' },
        { Id: 'b', MessageBody: '' },
      ],
    });
    expect(r).toEqual({
      Successful: [{ Id: 'a', MessageId: 'm', MD5OfMessageBody: md5Hex('x') }],
      Failed: [{ Id: 'b', SenderFault: true, Code: 'InvalidParameterValue', Message: expect.any(String) }],
    });
    expect(() => handleSqsAction(backend, base, 'PurgeQueue', {})).toThrow(/does not support PurgeQueue/);
  });
});
