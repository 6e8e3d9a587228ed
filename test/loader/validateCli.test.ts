/**
 * The real CLI (`node bin/berth.js validate`, from dist/: run `npm run build` first) on job files that would
 * stop the process loading them. Before the loader ran files in a worker thread, a file calling
 * `process.exit(0)` made `validate` exit 0 with no output, and a top-level await that never settles made it
 * exit 13 with no output; a loop that never ends hung it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobFile, makeProject, REPO_ROOT, removeProject, validJob } from './tmpProject.js';

const roots: string[] = [];
function project(files: Record<string, string>): string {
  const root = makeProject('cli-load', files);
  roots.push(root);
  return root;
}
afterAll(() => {
  for (const root of roots) removeProject(root);
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function validate(cwd: string, env: Record<string, string> = {}, args: string[] = []): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/berth.js'), 'validate', ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, BERTH_LOAD_TIMEOUT: '2s', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

const HEAD = `import { defineJob } from 'berth';\n`;
const TAIL = (name: string) => `export default defineJob({ name: '${name}', task: { image: 'x' } });\n`;

describe('berth validate on job files that would stop it', () => {
  it('a lone file that calls process.exit(0): exit 1 and the file named (it used to exit 0 silently)', async () => {
    const root = project({ 'jobs/exits.ts': `${HEAD}process.exit(0);\n${TAIL('exits')}` });
    const run = await validate(root);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      '✖ jobs/exits.ts: (file): calls process.exit(0) while loading — throw an Error instead (berth reports it with the file), or move that code into the task: a job file only declares the job\n1 problem found\n',
    );
  }, 70_000);

  it('a lone file whose top-level await never settles: exit 1 and the file named (it used to exit 13 silently)', async () => {
    const root = project({ 'jobs/waits.ts': `${HEAD}await new Promise(() => {});\n${TAIL('waits')}` });
    const run = await validate(root);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      '✖ jobs/waits.ts: (file): never finishes loading: its top-level await waits on a promise nothing settles — remove that await or make sure what it waits for settles; a job file only declares the job\n1 problem found\n',
    );
  }, 70_000);

  it('every kind at once: each file named, the code frame under its line, the loop stopped at BERTH_LOAD_TIMEOUT', async () => {
    const root = project({
      'jobs/a-good.ts': jobFile(validJob('a-good')),
      'jobs/b-loops.ts': `${HEAD}while (Date.now() > 0) {}\n${TAIL('b-loops')}`,
      'jobs/c-slow.ts': `${HEAD}await new Promise((r) => setTimeout(r, 120_000));\n${TAIL('c-slow')}`,
      'jobs/d-syntax.ts': `${HEAD}export default defineJob({ name: 'd' task: { image: 'x' } });\n`,
      'jobs/e-cycle.ts': `${HEAD}import { F } from './f-cycle.js';\nexport const E = 'e';\n${TAIL('e-cycle')}`,
      'jobs/f-cycle.ts': `${HEAD}import { E } from './e-cycle.js';\nexport const F = E;\n${TAIL('f-cycle')}`,
      'jobs/g-good.ts': jobFile(validJob('g-good')),
    });
    const run = await validate(root);
    expect(run.code).toBe(1);
    // The loop costs one time limit (2 s), the slow await another: nowhere near the 120 s it asks for.
    expect(run.ms).toBeLessThan(20_000);
    const cycleFix =
      'move what these files share into a helper file that imports none of them (a _-prefixed file, such as jobs/_shared.ts, is not loaded as a job); berth loads job files in no set order, so a value read across a cycle may not be set yet';
    const lines = run.stderr.split('\n');
    // The code frame follows its problem, indented (how much is the printer's business), the caret under `task`.
    const [code, caret] = [lines[3] ?? '', lines[4] ?? ''];
    expect(code).toMatch(/^ +2 │ export default defineJob\(\{ name: 'd' task: \{ image: 'x' \} \}\);$/);
    expect(caret).toMatch(/^ +│ +\^~~~$/);
    expect(caret.indexOf('│')).toBe(code.indexOf('│'));
    expect(caret.indexOf('^')).toBe(code.indexOf('task'));
    expect([...lines.slice(0, 3), ...lines.slice(5)]).toEqual([
      "✖ jobs/b-loops.ts: (file): was still running its top-level code after 2s (a loop that never ends?); berth stopped it — make the file's top-level code finish; if it is only slow, raise the limit with BERTH_LOAD_TIMEOUT=2m",
      "✖ jobs/c-slow.ts: (file): had not finished loading after 2s: its top-level await was still waiting — don't wait on the network or long work at the top of a job file; if it is only slow, raise the limit with BERTH_LOAD_TIMEOUT=2m",
      '✖ jobs/d-syntax.ts: (file): does not compile: jobs/d-syntax.ts:2:38: Expected "}" but found "task" — correct the code at jobs/d-syntax.ts:2:38:',
      `✖ jobs/e-cycle.ts: (file): is part of an import cycle: jobs/e-cycle.ts → jobs/f-cycle.ts → jobs/e-cycle.ts — ${cycleFix}`,
      `✖ jobs/f-cycle.ts: (file): is part of an import cycle: jobs/f-cycle.ts → jobs/e-cycle.ts → jobs/f-cycle.ts — ${cycleFix}`,
      expect.stringMatching(/^5 problems found|^5 errors/),
      '',
    ]);
  }, 70_000);

  it('a job file that leaves a timer running: validate still exits at once (it used to run forever)', async () => {
    const root = project({ 'jobs/ticks.ts': `${HEAD}setInterval(() => {}, 1000);\n${TAIL('ticks')}` });
    const run = await validate(root);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('1 job valid: ticks');
    expect(run.ms).toBeLessThan(15_000);
  }, 70_000);

  it('what a job file prints while it loads goes to stderr: validate --json stays JSON', async () => {
    const root = project({
      'jobs/chatty.ts': `${HEAD}console.log('connecting to the database');\n${TAIL('chatty')}`,
    });
    const run = await validate(root, {}, ['--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, jobs: ['chatty'] });
    expect(run.stderr).toBe('connecting to the database\n');
  }, 70_000);

  it('a BERTH_LOAD_TIMEOUT that is not a duration is named with the fix', async () => {
    const root = project({ 'jobs/a.ts': jobFile(validJob('a')) });
    const run = await validate(root, { BERTH_LOAD_TIMEOUT: 'soon' });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      '✖ BERTH_LOAD_TIMEOUT="soon" is not a time limit — write a duration such as 30s, 2m or 500ms (a bare number is seconds)\n',
    );
  }, 70_000);
});
