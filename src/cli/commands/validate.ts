import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { checkConfig, checkProject } from '../../compiler/checks.js';
import { CompileError } from '../../compiler/errors.js';
import { checkBuildPaths } from '../../compiler/imageChecks.js';
import {
  errorsOf,
  formatJobIssue,
  type JobIssue,
  problemJson,
  splitProblemFix,
  warningsOf,
} from '../../core/errors.js';
import { emptyJobsFolderWarning, jobWarnings } from '../../core/model/warnings.js';
import { loadJobs } from '../../loader/loadJobs.js';
import { loadSubscribers } from '../../loader/loadSubscribers.js';
import { type LoadedSubscriber, SubscriberError } from '../../subscriber/index.js';
import { readBerthConfig } from '../project.js';

interface ValidateOptions {
  strict?: boolean;
  stage: string;
  json?: boolean;
  config?: string;
}

export interface ValidateReport {
  ok: boolean;
  jobs: string[];
  problems: JobIssue[];
}

/**
 * Every problem `synth` or AWS would hit, from the job files and `custom.berth` (the same `checkProject` the
 * compiler runs), plus the warnings: errors first, then warnings.
 */
export async function validateProject(
  cmd: Command,
  options: { config?: string; strict?: boolean; now?: Date; stage?: string } = {},
): Promise<ValidateReport> {
  const { root, jobsDir, configFile, config: input, service } = await readBerthConfig(cmd, options.config);
  const checked = checkConfig(input, configFile);
  if (!existsSync(join(root, jobsDir))) {
    const problem: JobIssue = {
      file: `${jobsDir.replace(/\/+$/, '')}/`,
      path: '(folder)',
      problem: 'does not exist',
      fix: 'create it (berth init writes one job), or point --jobs-dir / custom.berth.jobsDir at your jobs',
    };
    return { ok: false, jobs: [], problems: [...checked.issues, problem] };
  }
  // Jobs and subscribers load side by side (each in its own worker thread).
  const subscriberIssues: JobIssue[] = [];
  const [loaded, subscribers] = await Promise.all([
    loadJobs({ root, jobsDir }),
    loadProjectSubscribers(root, subscriberIssues),
  ]);
  const issues: JobIssue[] = [...checked.issues, ...loaded.issues];
  issues.push(...checkBuildPaths(loaded.jobs, root), ...subscriberIssues);
  if (checked.config) {
    issues.push(...checkProject(loaded.jobs, checked.config, configFile, subscribers));
    // Once everything above passes, compile the stack in memory as synth would (no bundles, nothing written):
    // whatever else the compiler refuses (an ECR lifecycle policy too long, two resources on one logical id,
    // a stack past CloudFormation's resource or size quota) is reported here too, so validate never passes
    // what synth rejects.
    if (errorsOf(issues).length === 0) {
      const { compileService } = await import('../../compiler/compile.js');
      const { synthesizeTemplate } = await import('../../compiler/synth.js');
      try {
        const compiled = compileService({
          jobs: loaded.jobs,
          config: checked.config,
          service,
          stage: options.stage ?? 'dev',
          subscribers,
        });
        // The stack's size against CloudFormation's quotas (500 resources, 1 MB) as synth measures it; the Lambda
        // zips are only named in the template, so names of the real length (`<kind>-<12 hex>.zip`) stand in.
        synthesizeTemplate(
          compiled,
          Object.fromEntries(compiled.functions.map((f) => [f.kind, `${f.kind}-${'0'.repeat(12)}.zip`])),
        );
      } catch (error) {
        if (!(error instanceof CompileError)) throw error;
        issues.push(...error.message.split('\n').map((line) => compileLineIssue(line, configFile)));
      }
    }
  }
  const now = options.now ?? new Date();
  for (const job of loaded.jobs) issues.push(...jobWarnings(job, now));
  if (loaded.files.length === 0) issues.push(emptyJobsFolderWarning(jobsDir));
  const errors = errorsOf(issues);
  const warnings = warningsOf(issues);
  return {
    ok: errors.length === 0 && (!options.strict || warnings.length === 0),
    jobs: loaded.jobs.map((j) => j.name),
    problems: [...errors, ...warnings],
  };
}

/** A line of a CompileError (`file: field: problem — fix`, or `custom.berth.x: problem — fix`) as an issue. */
function compileLineIssue(line: string, configFile: string): JobIssue {
  const job = /^([^\s:]+\.(?:ts|mts|js|mjs)): ([^:]+): (.*)$/s.exec(line);
  const config = /^(custom\.berth[^\s:]*): (.*)$/s.exec(line);
  const [file, path, rest] = job
    ? [job[1] ?? '', job[2] ?? '', job[3] ?? '']
    : config
      ? [configFile, config[1] ?? '', config[2] ?? '']
      : [configFile, '(stack)', line];
  return { file, path, ...splitProblemFix(rest, 'see docs/deploy.md') };
}

/** The project's subscribers, as synth loads them; a file that does not load becomes an issue. */
async function loadProjectSubscribers(root: string, issues: JobIssue[]): Promise<LoadedSubscriber[]> {
  try {
    return await loadSubscribers(root);
  } catch (error) {
    if (!(error instanceof SubscriberError)) throw error;
    // The loader's message is `file: field: problem — fix`, one line per problem.
    for (const line of error.message.split('\n')) {
      const [file = 'subscribers/', path = '(file)', ...rest] = line.split(': ');
      const { problem, fix } = splitProblemFix(rest.join(': '), 'see docs/events.md');
      issues.push({ file, path, problem, fix });
    }
    return [];
  }
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'Load and validate every job file and custom.berth; print every problem found, errors then warnings (exit 1 on an error)',
    )
    .option('--strict', 'treat warnings as errors (exit 1 when there is any)')
    .option('--json', 'print JSON: { ok, jobs, problems: [{ file, field, severity, message, fix }] }')
    .option(
      '--config <file>',
      'JSON file with the custom.berth settings (default: serverless.yml custom.berth)',
    )
    .action(async (opts: ValidateOptions, cmd: Command) => {
      const report = await validateProject(cmd, {
        ...(opts.config ? { config: opts.config } : {}),
        strict: opts.strict ?? false,
        stage: opts.stage,
      });
      if (!report.ok) process.exitCode = 1;
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ ok: report.ok, jobs: report.jobs, problems: report.problems.map(problemJson) }, null, 2)}\n`,
        );
        return;
      }
      const errors = errorsOf(report.problems);
      const warnings = warningsOf(report.problems);
      for (const issue of errors) process.stderr.write(`${pc.red('✖')} ${formatJobIssue(issue)}\n`);
      const warnMark = opts.strict ? pc.red('✖') : pc.yellow('⚠');
      for (const issue of warnings) {
        process.stderr.write(
          `${warnMark} ${opts.strict ? 'warning (--strict): ' : ''}${formatJobIssue(issue)}\n`,
        );
      }
      if (errors.length > 0 || (opts.strict && warnings.length > 0)) {
        const problems = errors.length + (opts.strict ? warnings.length : 0);
        const note = warnings.length
          ? `, ${count(warnings.length, 'warning')}${opts.strict ? ' among them' : ''}`
          : '';
        process.stderr.write(`${count(problems, 'problem')} found${note}\n`);
        return;
      }
      // An empty jobs folder has its warning above; "✔ 0 jobs valid" would read as success.
      if (report.jobs.length === 0) return;
      const names = report.jobs.join(', ');
      const noted = warnings.length ? ` (${count(warnings.length, 'warning')})` : '';
      process.stdout.write(
        `${pc.green('✔')} ${count(report.jobs.length, 'job')} valid${noted}${names ? `: ${names}` : ''}\n`,
      );
    });
}
