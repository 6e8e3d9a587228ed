/** Units of the local launcher: the wrapper's exit files, finding executables, configuration problems. */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateJob } from '../../../src/core/model/validate.js';
import { configProblem, readExitFile, resolveExecutable } from '../../../src/runtime/local/launcher.js';

const dir = join(tmpdir(), `berth-launcher-${process.pid}`);
mkdirSync(join(dir, 'bin'), { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('exit files', () => {
  it('takes a whole line only: a torn or empty file is no status', () => {
    const file = join(dir, 'exit');
    writeFileSync(file, '0\n');
    expect(readExitFile(file)?.exitCode).toBe(0);
    writeFileSync(file, '143\n');
    expect(readExitFile(file)?.exitCode).toBe(143);
    for (const torn of ['', '1', '14', 'x\n', '1\n2\n']) {
      writeFileSync(file, torn);
      expect(readExitFile(file), JSON.stringify(torn)).toBeUndefined();
    }
    expect(readExitFile(join(dir, 'absent'))).toBeUndefined();
  });
});

describe('executables', () => {
  it('finds a command on PATH or by path from the working folder, and only when it is executable', () => {
    const tool = join(dir, 'bin', 'tool');
    writeFileSync(tool, '#!/bin/sh\n');
    chmodSync(tool, 0o644);
    expect(resolveExecutable('tool', dir, { PATH: 'bin' })).toBeUndefined();
    chmodSync(tool, 0o755);
    expect(resolveExecutable('tool', dir, { PATH: 'bin' })).toBe(tool);
    expect(resolveExecutable('./bin/tool', dir, {})).toBe(tool);
    expect(resolveExecutable('sh', dir, { PATH: '/usr/bin:/bin' })).toMatch(/\/sh$/);
    expect(resolveExecutable('tool', dir, { PATH: '/usr/bin' })).toBeUndefined();
  });

  it('names the file, the field and the fix of a job that cannot start', () => {
    const result = validateJob(
      { name: 'x', task: { image: 'node:22', local: { command: ['nope-xyz'] } } },
      'jobs/x.ts',
    );
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const job = result.job;
    const env = { PATH: '/usr/bin:/bin' };
    expect(configProblem(job, { file: 'nope-xyz', cwd: dir, env, driver: 'process' })).toBe(
      `berth: cannot start locally: nope-xyz: command not found (ENOENT in ${dir}) — fix task.local.command of jobs/x.ts or install nope-xyz`,
    );
    expect(configProblem(job, { file: '', cwd: dir, env, driver: 'process' })).toMatch(
      /^berth: cannot start locally: jobs\/x\.ts: job 'x' has no command to run locally — add task\.local\.command/,
    );
    expect(configProblem(job, { file: 'sh', cwd: join(dir, 'gone'), env, driver: 'process' })).toMatch(
      /task\.local\.cwd: folder .*gone does not exist — fix task\.local\.cwd/,
    );
    expect(configProblem(job, { file: 'sh', cwd: dir, env, driver: 'process' })).toBeUndefined();
  });
});
