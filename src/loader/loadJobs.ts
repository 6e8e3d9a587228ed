import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { BerthError, type JobIssue, JobValidationError } from '../core/errors.js';
import type { Job } from '../core/model/job.js';
import { findDuplicateNames, validateJob } from '../core/model/validate.js';
import { type ImportStrategy, loadJobExports } from './importFiles.js';

export interface LoadOptions {
  /** Project root; job files are reported relative to it. @default process.cwd() */
  root?: string;
  /** Folder of job files, relative to the root. @default 'jobs' */
  jobsDir?: string;
  /**
   * How job files are imported (see `importProjectFiles`): `bundle` builds them in one esbuild pass and
   * imports one module, falling back to `per-file` (one esbuild build per file, so each syntax error lands on
   * its own file) when the bundle cannot be built or loaded.
   * @default 'bundle'
   */
  strategy?: ImportStrategy;
  /**
   * How long the job files may take to load before berth stops them and names the file (a top-level await
   * that waits too long, a loop that never ends). @default BERTH_LOAD_TIMEOUT, else 30 s
   */
  timeoutMs?: number;
}

export interface LoadResult {
  jobs: Job[];
  issues: JobIssue[];
  files: string[];
}

const JOB_FILE_RE = /\.(ts|mts|js|mjs)$/;
const SKIP_FILE_RE = /(\.d\.ts|\.test\.[mc]?[jt]s|\.spec\.[mc]?[jt]s)$/;

/** Every job file under the folder: `**\/*.ts` (and .js), minus declarations, tests and `_`-prefixed helpers. */
export function findJobFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true }) as string[];
  } catch (error) {
    throw new BerthError(`${dir}: cannot read the jobs folder — create it or set custom.berth.jobsDir`, {
      cause: error,
    });
  }
  return entries
    .filter((e) => JOB_FILE_RE.test(e) && !SKIP_FILE_RE.test(e))
    .filter((e) => !e.split(sep).some((part) => part.startsWith('_') || part === 'node_modules'))
    .map((e) => join(dir, e))
    .filter((f) => statSync(f).isFile())
    .sort();
}

function posix(path: string): string {
  return path.split(sep).join('/');
}

/**
 * Imports every job file and validates all of them, collecting every problem instead of stopping at the
 * first. Files are bundled with esbuild (`loadJobExports`), so `.ts`, `.mts`, `.js` and `.mjs` files load
 * whatever the project's package.json `"type"` says, and no loader hook is registered in the process. They
 * run in a worker thread with a time limit: a file that calls `process.exit()`, never finishes its top-level
 * await or loops forever becomes a `(file)` problem naming what it did, like a file that throws.
 */
export async function loadJobs(options: LoadOptions = {}): Promise<LoadResult> {
  const root = options.root ?? process.cwd();
  const dir = join(root, options.jobsDir ?? 'jobs');
  const files = findJobFiles(dir);
  const issues: JobIssue[] = [];
  const jobs: Job[] = [];
  const modules = await loadJobExports(files, root, {
    strategy: options.strategy ?? 'bundle',
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  modules.forEach((result, i) => {
    const file = posix(relative(root, files[i]!));
    if (!result.ok) {
      issues.push({ file, path: '(file)', ...result.failure });
      return;
    }
    const exported = result.value;
    if (exported.kind === 'no-default') {
      issues.push({
        file,
        path: '(file)',
        problem: 'has no default export',
        fix: 'end the file with export default defineJob({ ... }), or prefix helper files with _',
      });
      return;
    }
    if (exported.kind === 'not-job') {
      issues.push({
        file,
        path: '(file)',
        problem: 'the default export is not a job',
        fix: "wrap it: import { defineJob } from 'berth'; export default defineJob({ ... })",
      });
      return;
    }
    const validated = validateJob(exported.definition, file);
    if (validated.ok) jobs.push(validated.job);
    else issues.push(...validated.issues);
  });
  issues.push(...findDuplicateNames(jobs));
  return { jobs, issues, files: files.map((f) => posix(relative(root, f))) };
}

/** Like `loadJobs`, but throws a `JobValidationError` holding every issue when there is any. */
export async function loadJobsOrThrow(options: LoadOptions = {}): Promise<Job[]> {
  const result = await loadJobs(options);
  if (result.issues.length > 0) throw new JobValidationError(result.issues);
  return result.jobs;
}
