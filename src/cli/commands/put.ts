import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { putObject } from '../../runtime/local/buckets.js';
import { devPaths } from '../../runtime/local/paths.js';
import { CliError } from '../output.js';
import { loadProjectJobs, projectPaths } from '../project.js';

export function registerPut(program: Command): void {
  program
    .command('put <bucket> <file>')
    .description('Copy a file into a local bucket folder (.berth/buckets/<bucket>/<key>), atomically')
    .option('--key <key>', 'object key (default: the file name)')
    .action(async (bucket: string, file: string, opts: { key?: string }, cmd: Command) => {
      const { root } = projectPaths(cmd);
      if (!existsSync(file) || !statSync(file).isFile()) {
        throw new CliError(`${file}: no such file — give the path of a file to put`);
      }
      const jobs = await loadProjectJobs(cmd);
      const buckets = new Set(
        jobs.flatMap((j) => j.triggers.flatMap((t) => (t.kind === 's3' ? [t.bucket] : []))),
      );
      if (!buckets.has(bucket)) {
        throw new CliError(
          `${bucket}: no job listens to this bucket — buckets with jobs: ${[...buckets].join(', ') || '(none)'}`,
        );
      }
      let target: string;
      try {
        target = putObject(devPaths(root).buckets, bucket, file, opts.key);
      } catch (error) {
        throw new CliError((error as Error).message);
      }
      process.stdout.write(`${target}\n`);
    });
}
