/**
 * The checks of `task.build` that need the project on disk (the job model in src/core stays pure): the entry
 * exists, the Dockerfile and its context lie inside the project. Run by `berth validate` (and every command that
 * loads the project) and by the compiler before it writes a template.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { type JobIssue, JobValidationError } from '../core/errors.js';
import type { Job } from '../core/model/job.js';

/** True when `path` (after following symlinks of the part that exists) lies inside `root`. */
function inside(root: string, path: string): boolean {
  const realRoot = existsSync(root) ? realpathSync(root) : root;
  const real = existsSync(path) ? realpathSync(path) : path;
  const rel = relative(realRoot, real);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function kind(path: string): 'file' | 'directory' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'file';
  } catch {
    return 'missing';
  }
}

/** Every problem of the jobs' `task.build` paths, relative to the project root. */
export function checkBuildPaths(jobs: readonly Job[], root: string): JobIssue[] {
  const issues: JobIssue[] = [];
  for (const job of jobs) {
    const build = job.task.build;
    if (!build) continue;
    const issue = (field: string, problem: string, fix: string) =>
      issues.push({ file: job.file, path: `task.build.${field}`, problem, fix });
    if (build.entry !== undefined) {
      const path = resolve(root, build.entry);
      if (!inside(root, path)) {
        issue(
          'entry',
          `${build.entry} is outside the project`,
          'move the task into the project and give its path relative to the project root',
        );
      } else if (kind(path) !== 'file') {
        issue(
          'entry',
          `${build.entry} does not exist`,
          `create it or fix the path (relative to the project root, like 'tasks/${job.name}.ts')`,
        );
      }
    }
    if (build.dockerfile !== undefined) {
      const path = resolve(root, build.dockerfile);
      if (!inside(root, path)) {
        issue(
          'dockerfile',
          `${build.dockerfile} is outside the project`,
          'move the Dockerfile into the project (berth only builds what the project holds), like images/<job>/Dockerfile',
        );
      } else if (kind(path) !== 'file') {
        issue(
          'dockerfile',
          `${build.dockerfile} does not exist`,
          'create it or fix the path (relative to the project root)',
        );
      }
      if (build.context !== undefined) {
        const context = resolve(root, build.context);
        if (!inside(root, context)) {
          issue(
            'context',
            `${build.context} is outside the project`,
            'use a folder inside the project as the build context',
          );
        } else if (kind(context) !== 'directory') {
          issue(
            'context',
            `${build.context} is not a folder`,
            `create it or leave context out to use the Dockerfile's folder`,
          );
        }
      }
    }
  }
  return issues;
}

/** Like `checkBuildPaths`, but throws a `JobValidationError` holding every issue when there is any. */
export function assertBuildPaths(jobs: readonly Job[], root: string): void {
  const issues = checkBuildPaths(jobs, root);
  if (issues.length) throw new JobValidationError(issues);
}
