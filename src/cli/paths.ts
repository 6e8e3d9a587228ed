/** The project's root and jobs folder from the global options: kept apart so light commands need no loader. */
import { resolve } from 'node:path';
import type { Command } from 'commander';

export interface GlobalOptions {
  cwd?: string;
  jobsDir?: string;
}

export function projectPaths(cmd: Command): { root: string; jobsDir: string } {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  return { root: resolve(opts.cwd ?? process.cwd()), jobsDir: opts.jobsDir ?? 'jobs' };
}
