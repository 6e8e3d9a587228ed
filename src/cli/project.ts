import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { assertBuildPaths } from '../compiler/imageChecks.js';
import type { Job } from '../core/model/job.js';
import { loadJobsOrThrow } from '../loader/loadJobs.js';
import { CliError } from './output.js';
import { projectPaths } from './paths.js';

export { type GlobalOptions, projectPaths } from './paths.js';

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

/** `service:` and `custom.berth` of the project's serverless.yml, when it has one and YAML can be read. */
export async function serverlessDefaults(root: string): Promise<{ service?: string; berth?: unknown }> {
  const file = join(root, 'serverless.yml');
  if (!existsSync(file)) return {};
  const text = readFileSync(file, 'utf8');
  const service = /^service:\s*['"]?([A-Za-z0-9-]+)/m.exec(text)?.[1];
  try {
    // js-yaml comes with osls (the Serverless CLI); without it only `service:` is read.
    const specifier = 'js-yaml';
    const yaml = (await import(specifier)) as { load(text: string): unknown };
    const doc = yaml.load(text) as { custom?: { berth?: unknown } } | undefined;
    return { service, berth: doc?.custom?.berth };
  } catch {
    return { service };
  }
}

/**
 * `custom.berth` as `berth synth` reads it (serverless.yml, or the JSON file of `--config`), and the jobs
 * folder synth would compile: `--jobs-dir` when given, else `custom.berth.jobsDir`, else `jobs`.
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
  const { root, jobsDir } = projectPaths(cmd);
  let config: Record<string, unknown>;
  let configFile = 'serverless.yml';
  const defaults = await serverlessDefaults(root);
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
  const fromConfig = typeof config.jobsDir === 'string' ? config.jobsDir : undefined;
  const effective = jobsDir !== 'jobs' || fromConfig === undefined ? jobsDir : fromConfig;
  return {
    root,
    jobsDir: effective,
    configFile,
    config: { ...config, jobsDir: effective },
    service: defaults.service ?? basename(root),
  };
}
