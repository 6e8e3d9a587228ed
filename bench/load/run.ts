/**
 * Loads and validates 300 generated job files with `loadJobs` and prints the time, next to the in-process
 * baseline: validating the same 300 definitions already in memory, and loading with the file-by-file strategy
 * for comparison. Aim: under 2 s. Also prints what running the files in a worker thread costs: a thread per
 * load (job files in one bundle carry the bit of berth they use), and the same thread importing all of berth
 * (what a subscriber load or a file-by-file load pays).
 *
 *   node --import tsx bench/load/run.ts [count]
 *   TSX_DISABLE_CACHE=1 node --import tsx bench/load/run.ts     # cold: no transpile cache on disk
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findDuplicateNames, validateJob } from '../../src/core/model/validate.js';
import { loadJobs } from '../../src/loader/loadJobs.js';
import { LoadWorker } from '../../src/loader/loadWorker.js';

const COUNT = Number(process.argv[2] ?? 300);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const IMAGE = 'public.ecr.aws/docker/library/node:22-alpine';
const ZONES = ['UTC', 'Asia/Seoul', 'Europe/Berlin', 'America/New_York'];

/** A realistic mix: S3, cron and rate schedules in time zones, queues, retry rules, secrets, volumes. */
function definition(i: number): Record<string, unknown> {
  const name = `job-${String(i).padStart(4, '0')}`;
  const task = {
    image: IMAGE,
    command: ['node', `tasks/${name}.mjs`],
    cpu: 1024,
    memory: 2048 + (i % 7) * 1024,
    environment: { JOB_INDEX: String(i) },
    secrets: { DB: `arn:aws:secretsmanager:us-east-1:123456789012:secret:db-${i}` },
    local: { command: ['node', `tasks/${name}.mjs`] },
  };
  const retry = {
    maxAttempts: 3,
    backoff: { minDelay: '5s', maxDelay: '2m', factor: 2, jitter: 0.2 },
    rules: [
      { onExitCode: [2, 3], action: 'fail' },
      { onReason: 'CannotPullContainerError*', action: 'retry' },
    ],
  };
  switch (i % 4) {
    case 0:
      return { name, task, retry, trigger: { s3: { bucket: `bucket-${i}`, prefix: 'in/', suffix: '.csv' } } };
    case 1:
      return {
        name,
        task,
        retry,
        overlap: 'skip',
        trigger: {
          schedule: {
            expression: `cron(${i % 60} ${i % 24} ? * MON-FRI *)`,
            timezone: ZONES[i % ZONES.length],
          },
        },
      };
    case 2:
      return { name, task, retry, trigger: { schedule: { expression: `rate(${(i % 50) + 2} minutes)` } } };
    default:
      return {
        name,
        task,
        retry,
        maxConcurrency: 5,
        trigger: { queue: { batchSize: 1, maxReceiveCount: 5 } },
      };
  }
}

const dir = join(ROOT, '.tmp', `bench-load-${process.pid}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(join(dir, 'jobs'), { recursive: true });
const definitions = Array.from({ length: COUNT }, (_, i) => definition(i));
definitions.forEach((d, i) => {
  writeFileSync(
    join(dir, 'jobs', `job-${String(i).padStart(4, '0')}.ts`),
    `import { defineJob } from 'berth';\n\nexport default defineJob(${JSON.stringify(d, null, 2)});\n`,
  );
});

try {
  // Load berth's own modules first so that neither strategy pays for them.
  await import('berth');
  const t0 = performance.now();
  const result = await loadJobs({ root: dir });
  const loadMs = performance.now() - t0;
  const t2 = performance.now();
  const perFile = await loadJobs({ root: dir, strategy: 'per-file' });
  const perFileMs = performance.now() - t2;
  if (perFile.jobs.length !== COUNT) throw new Error('per-file load lost jobs');
  if (result.issues.length > 0 || result.jobs.length !== COUNT) {
    throw new Error(
      `expected ${COUNT} valid jobs, got ${result.jobs.length}: ${JSON.stringify(result.issues[0])}`,
    );
  }

  // Baseline: the same definitions, already in memory (schema, cron parsing, duplicate check; no import).
  const t1 = performance.now();
  const jobs = definitions.map((d, i) => {
    const r = validateJob(d, `jobs/job-${i}.ts`);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.job;
  });
  findDuplicateNames(jobs);
  const memoryMs = performance.now() - t1;

  // The worker thread every load runs in: started and run with nothing to load, with and without berth.
  const workerMs = async (preload: string[]): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await new LoadWorker(preload).run({ files: [], order: [], mode: 'jobs' }, 30_000);
      times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b)[2] as number;
  };
  const bare = await workerMs([]);
  const withBerth = await workerMs([import.meta.resolve('berth')]);

  const cache = process.env.TSX_DISABLE_CACHE ? 'off' : 'on';
  process.stdout.write(
    `${COUNT} job files: loadJobs ${loadMs.toFixed(0)} ms (tsx cache ${cache}); ` +
      `in-memory validation ${memoryMs.toFixed(0)} ms; ratio ${(loadMs / memoryMs).toFixed(1)}×; ` +
      `file-by-file import ${perFileMs.toFixed(0)} ms; ` +
      `${loadMs < 2000 ? 'under' : 'OVER'} the 2 s aim\n` +
      `worker thread per load: ${bare.toFixed(0)} ms (${((bare / loadMs) * 100).toFixed(0)}% of the load above); ` +
      `importing all of berth in it: ${withBerth.toFixed(0)} ms (${(withBerth / bare).toFixed(1)}×)\n`,
  );
  if (loadMs >= 2000) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
