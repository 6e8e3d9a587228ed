/**
 * With a real `berth dev`: invoking an S3-triggered job by hand for an object of its bucket folder gives the
 * task an S3-shaped trigger (real size and ETag; twice is two runs; bad input is a clear error); a large
 * trigger's payload file goes with its run; `berth runs logs` streams a large log in bounded memory.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  cleanup,
  cli,
  type EngineProc,
  job,
  makeProject,
  REPO,
  runs,
  sql,
  startEngine,
  waitFor,
} from './harness.js';

let dir: string;
let engine: EngineProc;

beforeAll(async () => {
  dir = makeProject('invoke', {
    thumb: job(
      'thumb',
      `trigger: { s3: { bucket: 'uploads', prefix: 'images/' } }, retry: { maxAttempts: 1 }`,
    ),
    plain: job('plain', `retry: { maxAttempts: 1 }`),
  });
  mkdirSync(join(dir, '.berth/buckets/uploads/images'), { recursive: true });
  engine = await startEngine(dir);
}, 60_000);

afterAll(async () => {
  await engine?.stop();
  cleanup(dir);
});

describe('berth invoke --bucket --key', () => {
  it('runs an S3-triggered job for an object of its bucket folder with an S3-shaped trigger', async () => {
    const body = 'jpeg bytes for the dog';
    const file = join(dir, 'dog.jpg');
    const fd = openSync(file, 'w');
    writeSync(fd, body);
    closeSync(fd);
    expect(cli(dir, ['put', 'uploads', file, '--key', 'images/dog.jpg']).code).toBe(0);
    // The put itself triggers one run; each invoke adds one more.
    await waitFor(() => runs(dir, 'thumb').length === 1 && runs(dir, 'thumb')[0]?.status === 'succeeded');
    const first = cli(dir, ['invoke', 'thumb', '--key', 'images/dog.jpg', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const second = cli(dir, ['invoke', 'thumb', '--bucket', 'uploads', '--key', 'images/dog.jpg', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const ids = [JSON.parse(first.stdout).runId, JSON.parse(second.stdout).runId];
    expect(new Set(ids).size).toBe(2);
    await waitFor(() => runs(dir, 'thumb').filter((r) => r.status === 'succeeded').length === 3, 20_000);
    for (const id of ids) {
      const [row] = sql<{ trigger: string; trigger_kind: string }>(
        dir,
        'SELECT trigger, trigger_kind FROM runs WHERE run_id = ?',
        id,
      );
      expect(row?.trigger_kind).toBe('s3');
      const trigger = JSON.parse(row?.trigger ?? '{}');
      expect(trigger).toMatchObject({
        kind: 's3',
        bucket: 'uploads',
        key: 'images/dog.jpg',
        size: body.length,
        etag: createHash('md5').update(body).digest('hex'),
      });
      expect(trigger.sequencer).toMatch(/^[0-9A-F]{16}$/);
      // The task saw it: its log prints the key from BERTH_TRIGGER.
      expect(readFileSync(join(dir, `.berth/logs/${id}.1.log`), 'utf8')).toContain('key images/dog.jpg');
    }
  }, 60_000);

  it('refuses what cannot be an object of the job, naming the flag and the fix', () => {
    const missing = cli(dir, ['invoke', 'thumb', '--key', 'images/none.jpg']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--key: no object images/none.jpg');
    expect(missing.stderr).toContain('berth put uploads <file> --key images/none.jpg');
    const bucket = cli(dir, ['invoke', 'thumb', '--bucket', 'other', '--key', 'images/dog.jpg']);
    expect(bucket.code).toBe(1);
    expect(bucket.stderr).toContain(
      '--bucket: "other" is not a bucket job \'thumb\' listens to — use uploads',
    );
    const key = cli(dir, ['invoke', 'thumb', '--key', '../escape.jpg']);
    expect(key.code).toBe(1);
    expect(key.stderr).toContain('has a .. segment');
    const noS3 = cli(dir, ['invoke', 'plain', '--key', 'a.jpg']);
    expect(noS3.code).toBe(1);
    expect(noS3.stderr).toContain("job 'plain' has no s3 trigger");
    expect(cli(dir, ['invoke', 'thumb', '--bucket', 'uploads']).stderr).toContain(
      '--bucket: give the object too',
    );
  });
});

describe('files of runs', () => {
  it("removes a large trigger's payload file when its run ends", async () => {
    const payload = JSON.stringify({ blob: 'x'.repeat(20_000) });
    const res = cli(dir, ['invoke', 'plain', '--payload', payload, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const runId = JSON.parse(res.stdout).runId as string;
    await waitFor(() => runs(dir, 'plain').find((r) => r.run_id === runId)?.status === 'succeeded', 20_000);
    // The task got the payload by reference (the launch wrote the file)…
    expect(readFileSync(join(dir, `.berth/logs/${runId}.1.log`), 'utf8')).toContain('hello from plain');
    // …and the file went with the run.
    await waitFor(() => !existsSync(join(dir, `.berth/payloads/${runId}.json`)), 5_000);
    expect(readdirSync(join(dir, '.berth/payloads'))).toEqual([]);
  }, 60_000);

  it('berth runs logs streams a large log: the output is complete and memory stays flat', async () => {
    const [run] = runs(dir, 'plain');
    const log = join(dir, `.berth/logs/${run?.run_id}.1.log`);
    /** Runs `berth runs logs` with its stdout in a file; returns the process's peak RSS in MiB. */
    const peak = async (): Promise<{ mib: number; bytes: number }> => {
      const out = join(dir, 'logs.out');
      const fd = openSync(out, 'w');
      const probe = `data:text/javascript,process.on('exit',()=>process.stderr.write('maxrss='+process.resourceUsage().maxRSS+'\\n'))`;
      const child = spawn(
        process.execPath,
        ['--import', probe, BIN, '-C', dir, 'runs', 'logs', String(run?.run_id)],
        {
          cwd: REPO,
          stdio: ['ignore', fd, 'pipe'],
        },
      );
      closeSync(fd);
      let err = '';
      child.stderr?.on('data', (d) => {
        err += String(d);
      });
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      expect(code, err).toBe(0);
      const kib = Number(/maxrss=(\d+)/.exec(err)?.[1]);
      return { mib: kib / 1024, bytes: statSync(out).size };
    };
    const small = await peak();
    // Grow the log to 160 MiB.
    const chunk = Buffer.alloc(1024 * 1024, 'log line of a chatty task\n');
    const fd = openSync(log, 'a');
    for (let i = 0; i < 160; i++) writeSync(fd, chunk);
    closeSync(fd);
    const big = await peak();
    expect(big.bytes - small.bytes).toBe(160 * 1024 * 1024);
    // Reading the whole file would add its 160 MiB; streaming adds next to nothing.
    expect(big.mib - small.mib).toBeLessThan(48);
  }, 120_000);
});
