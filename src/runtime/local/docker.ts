/**
 * The docker driver: `docker run` with the job's image, environment, cpu/memory limits and volumes. Chosen
 * for jobs without a `local` command when `docker info` answers.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
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
  argv.push(task.image);
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
