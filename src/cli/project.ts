import { resolve } from 'node:path';
import type { Command } from 'commander';
import { assertBuildPaths } from '../compiler/imageChecks.js';
import type { Job } from '../core/model/job.js';
import { loadJobsOrThrow } from '../loader/loadJobs.js';
import { CliError } from './output.js';

export interface GlobalOptions {
  cwd?: string;
  jobsDir?: string;
}

/** Project root and jobs folder from the global options. */
export function projectPaths(cmd: Command): { root: string; jobsDir: string } {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  return { root: resolve(opts.cwd ?? process.cwd()), jobsDir: opts.jobsDir ?? 'jobs' };
}

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
