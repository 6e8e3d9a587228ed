/**
 * The docker driver: `docker run` with the job's image, environment, cpu/memory limits and volumes. Chosen
 * for jobs without a `local` command when `docker info` answers.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import type { Job } from '../../core/model/job.js';

export interface DockerRunInput {
  job: Job;
  runId: string;
  attempt: number;
  /** Job environment + `BERTH_*`. */
  environment: Record<string, string>;
  /** Host folder that stands in for EFS volumes: `<volumesDir>/<fileSystemId>`. */
  volumesDir: string;
}

/** Container name: unique per run and attempt, so a repeated launch is refused by docker itself. */
export function containerName(runId: string, attempt: number): string {
  return `berth-${runId}-${attempt}`;
}

/** Local tag of a `task.build.dockerfile` job's image, built by `berth dev` at start. */
export function devImageTag(job: string): string {
  return `berth-dev/${job}:latest`;
}

/** `docker build` argv of a `task.build.dockerfile` job (context: the Dockerfile's folder unless given). */
export function dockerBuildArgv(job: Job, root: string): string[] | undefined {
  const build = job.task.build;
  if (build?.dockerfile === undefined) return undefined;
  const context = build.context ?? dirname(build.dockerfile);
  return [
    'build',
    '--tag',
    devImageTag(job.name),
    '--file',
    join(root, build.dockerfile),
    join(root, context),
  ];
}

/**
 * Which driver runs a job under `berth dev`: `task.local` and `build.entry` jobs run as processes (from
 * source), a `build.dockerfile` job only in Docker, others in Docker when an engine answers.
 */
export function devDriverFor(
  job: Job,
  choice: 'auto' | 'process' | 'docker',
  dockerUp: boolean,
): 'process' | 'docker' {
  if (job.task.local) return choice === 'docker' ? 'docker' : 'process';
  if (job.task.build?.entry !== undefined) return 'process';
  if (job.task.build?.dockerfile !== undefined) return 'docker';
  return choice === 'docker' || dockerUp ? 'docker' : 'process';
}

/** The `build.dockerfile` jobs `berth dev` cannot run: no Docker engine and no `task.local` command. */
export function jobsNeedingDocker(jobs: readonly Job[], dockerUp: boolean): string[] {
  if (dockerUp) return [];
  return jobs
    .filter((j) => j.task.build?.dockerfile !== undefined && !j.task.local)
    .map(
      (j) =>
        `${j.file}: task.build.dockerfile: job '${j.name}' is built from a Dockerfile and no Docker engine answers \`docker info\` — start Docker, or add task.local.command to run it as a process`,
    );
}

/** Builds the `build.dockerfile` jobs' images with `docker build` (once, at `berth dev` start). */
export function buildDevImages(jobs: readonly Job[], root: string, log: (line: string) => void): void {
  for (const job of jobs) {
    const argv = dockerBuildArgv(job, root);
    if (!argv) continue;
    log(`⧗ ${job.name}: docker ${argv.join(' ')}`);
    const r = spawnSync('docker', argv, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(
        `${job.file}: task.build.dockerfile: docker build of job '${job.name}' failed (exit ${r.status ?? r.signal}) — ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' ')}`,
      );
    }
  }
}

/** The argv after `docker`. Pure: tested without an engine. */
export function dockerRunArgv(input: DockerRunInput): string[] {
  const { job, runId, attempt } = input;
  const task = job.task;
  const argv = [
    'run',
    '--rm',
    '--name',
    containerName(runId, attempt),
    '--label',
    `berth.job=${job.name}`,
    '--label',
    `berth.run=${runId}`,
    '--label',
    `berth.attempt=${attempt}`,
    // Fargate: 1024 cpu units = 1 vCPU; memory is a hard limit in MiB.
    '--cpus',
    String(task.cpu / 1024),
    '--memory',
    `${task.memory}m`,
    '--platform',
    task.architecture === 'arm64' ? 'linux/arm64' : 'linux/amd64',
  ];
  for (const key of Object.keys(input.environment).sort())
    argv.push('--env', `${key}=${input.environment[key]}`);
  for (const v of task.volumes) {
    const host = join(input.volumesDir, v.fileSystemId);
    argv.push('--volume', `${host}:${v.mountPath}${v.readOnly ? ':ro' : ''}`);
  }
  // The image's ENTRYPOINT is overridden with its first element; docker takes the rest as arguments.
  const entry = task.entryPoint ?? [];
  if (entry.length > 0) argv.push('--entrypoint', entry[0] as string);
  argv.push(task.image ?? devImageTag(job.name));
  argv.push(...entry.slice(1));
  if (task.command) argv.push(...task.command);
  return argv;
}

/** True when a Docker engine answers `docker info` within a couple of seconds. */
export function dockerAvailable(): boolean {
  try {
    const r = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
      timeout: 3000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return r.status === 0 && String(r.stdout).trim().length > 0;
  } catch {
    return false;
  }
}
