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
