import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { assertBuildPaths } from '../compiler/imageChecks.js';
import type { Job } from '../core/model/job.js';
import { loadJobsOrThrow } from '../loader/loadJobs.js';
import { CliError } from './output.js';
import { jobsDirFlag, projectPaths, readServerlessYml, resolveJobsDir, type ServerlessYml } from './paths.js';

export { type GlobalOptions, projectPaths, projectRoot } from './paths.js';

/** Project root and jobs folder from the global options. */
export async function loadProjectJobs(cmd: Command): Promise<Job[]> {
  const paths = projectPaths(cmd);
  const jobs = await loadJobsOrThrow(paths);
  assertBuildPaths(jobs, paths.root);
  return jobs;
}

export function findJob(jobs: Job[], name: string): Job {
  const job = jobs.find((j) => j.name === name);
  if (!job) {
    throw new CliError(
      `${name}: no such job — known jobs: ${jobs.map((j) => j.name).join(', ') || '(none)'}; run berth list`,
    );
  }
  return job;
}

/** `service:` and `custom.berth` of the project's serverless.yml (see readServerlessYml). */
export async function serverlessDefaults(root: string): Promise<ServerlessYml> {
  return readServerlessYml(root, true);
}

/**
 * `custom.berth` as `berth synth` reads it (serverless.yml, or the JSON file of `--config`), and the jobs
 * folder every command uses: `--jobs-dir` when given, else that config's `jobsDir`, else `jobs`.
 */
export async function readBerthConfig(
  cmd: Command,
  configPath?: string,
): Promise<{
  root: string;
  jobsDir: string;
  configFile: string;
  config: Record<string, unknown>;
  /** serverless.yml's `service:`, else the folder's name (as `berth synth`). */
  service: string;
}> {
  const { root } = projectPaths(cmd);
  let config: Record<string, unknown>;
  const defaults = readServerlessYml(root, true);
  let configFile = defaults.file ?? 'serverless.yml';
  if (configPath) {
    try {
      config = JSON.parse(readFileSync(resolve(configPath), 'utf8'));
    } catch (error) {
      throw new CliError(`${configPath}: cannot read it as JSON — ${(error as Error).message}`);
    }
    configFile = configPath;
  } else {
    const berth = defaults.berth;
    config = berth && typeof berth === 'object' ? (berth as Record<string, unknown>) : {};
  }
  const jobsDir = resolveJobsDir(jobsDirFlag(cmd), config, configFile);
  return {
    root,
    jobsDir,
    configFile,
    config: { ...config, jobsDir },
    service: defaults.service ?? basename(root),
  };
}
