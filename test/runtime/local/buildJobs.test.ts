/**
 * `berth dev` and `task.build`: an entry job runs from source with the process driver (no image, no build), a
 * Dockerfile job needs a Docker engine and says so at start when none answers.
 */
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Job } from '../../../src/core/model/job.js';
import { validateJob } from '../../../src/core/model/validate.js';
import {
  devDriverFor,
  devImageTag,
  dockerBuildArgv,
  dockerRunArgv,
  jobsNeedingDocker,
} from '../../../src/runtime/local/docker.js';
import { LocalEngine } from '../../../src/runtime/local/engine.js';
import { commandFor } from '../../../src/runtime/local/launcher.js';
import { makeProject } from './harness.js';

function parse(name: string, task: Record<string, unknown>): Job {
  const r = validateJob({ name, task }, `jobs/${name}.ts`);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.job;
}

const entryJob = parse('thumb', { build: { entry: 'tasks/thumb.ts' }, command: ['--width', '320'] });
const dockerJob = parse('report', { build: { dockerfile: 'images/report/Dockerfile' } });
const imageJob = parse('plain', { image: 'node:22-alpine', command: ['node', 'x.mjs'] });
const localJob = parse('local', { image: 'node:22-alpine', local: { command: ['node', 'x.mjs'] } });

const projects: string[] = [];
afterAll(() => {
  for (const dir of projects) rmSync(dir, { recursive: true, force: true });
});

describe('the job → command mapping', () => {
  it('runs a build.entry job with node through tsx on the entry, task.command as its arguments', () => {
    const { argv, cwd } = commandFor(entryJob);
    expect(argv[0]).toBe(process.execPath);
    expect(argv[1]).toBe('--import');
    expect(argv[2]).toMatch(/^file:\/\/.*\/tsx\/dist\/loader\.mjs$/);
    expect(argv.slice(3)).toEqual(['tasks/thumb.ts', '--width', '320']);
    expect(cwd).toBeUndefined();
  });

  it('picks the driver: entry → process always, dockerfile → docker, others as before', () => {
    expect(devDriverFor(entryJob, 'auto', true)).toBe('process');
    expect(devDriverFor(entryJob, 'docker', true)).toBe('process');
    expect(devDriverFor(dockerJob, 'auto', true)).toBe('docker');
    expect(devDriverFor(imageJob, 'auto', true)).toBe('docker');
    expect(devDriverFor(imageJob, 'auto', false)).toBe('process');
    expect(devDriverFor(localJob, 'auto', true)).toBe('process');
    expect(devDriverFor(localJob, 'docker', true)).toBe('docker');
  });

  it('builds a Dockerfile job for docker run under a local tag', () => {
    expect(dockerBuildArgv(dockerJob, '/p')).toEqual([
      'build',
      '--tag',
      'berth-dev/report:latest',
      '--file',
      '/p/images/report/Dockerfile',
      '/p/images/report',
    ]);
    const run = dockerRunArgv({ job: dockerJob, runId: 'r1', attempt: 1, environment: {}, volumesDir: '/v' });
    expect(run.at(-1)).toBe(devImageTag('report'));
    expect(dockerBuildArgv(entryJob, '/p')).toBeUndefined();
  });

  it('names each Dockerfile job that cannot run without Docker, and the fix', () => {
    expect(jobsNeedingDocker([entryJob, dockerJob, localJob], false)).toEqual([
      "jobs/report.ts: task.build.dockerfile: job 'report' is built from a Dockerfile and no Docker engine answers `docker info` — start Docker, or add task.local.command to run it as a process",
    ]);
    expect(jobsNeedingDocker([dockerJob], true)).toEqual([]);
  });
});

describe('berth dev with built jobs (real engine, no Docker on this machine)', () => {
  it('runs a .ts entry that imports berth/task straight from source', async () => {
    const root = makeProject(
      'dev-build-entry',
      { hello: `{ name: 'hello', task: { build: { entry: 'tasks/hello.ts' }, command: ['from-args'] } }` },
      {
        'tasks/hello.ts': [
          "import { attempt, getTrigger, jobName } from 'berth/task';",
          'const trigger = await getTrigger();',
          'const words: string[] = process.argv.slice(2);',
          "console.log('ran', jobName(), 'attempt', attempt(), 'kind', trigger.kind, 'args', words.join(','));",
          '',
        ].join('\n'),
      },
    );
    projects.push(root);
    const engine = await LocalEngine.start({ root, port: 0, driver: 'auto', log: () => {} });
    try {
      const accepted = await engine.invoke('hello', { n: 1 });
      if (accepted.status !== 'accepted') throw new Error(JSON.stringify(accepted));
      const deadline = Date.now() + 25_000;
      let status = '';
      while (Date.now() < deadline) {
        status = (await engine.getRun(accepted.runId))?.status ?? '';
        if (status === 'succeeded' || status === 'failed') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const log = readFileSync(engine.logPath(accepted.runId, 1), 'utf8');
      expect(status, log).toBe('succeeded');
      expect(log).toContain('ran hello attempt 1 kind manual args from-args');
    } finally {
      await engine.stop();
    }
  });

  it('refuses to start with a Dockerfile job when no Docker engine answers', async () => {
    const root = makeProject(
      'dev-build-docker',
      { report: `{ name: 'report', task: { build: { dockerfile: 'images/report/Dockerfile' } } }` },
      { 'images/report/Dockerfile': 'FROM scratch\n' },
    );
    projects.push(root);
    await expect(LocalEngine.start({ root, port: 0, log: () => {} })).rejects.toThrow(
      "jobs/report.ts: task.build.dockerfile: job 'report' is built from a Dockerfile and no Docker engine answers `docker info` — start Docker, or add task.local.command to run it as a process",
    );
  });
});
