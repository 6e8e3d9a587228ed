/**
 * `berth dev` reloads job files with the same loader: a saved file that loops forever, exits or has a syntax
 * error is reported (terminal, `/api/health`) while the engine keeps serving and keeps the last good version;
 * nothing hangs. The time limit comes from BERTH_LOAD_TIMEOUT, read at each load.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../src/runtime/local/engine.js';
import { cleanup, makeProject, waitFor } from '../runtime/local/harness.js';

const job = (name: string, body = '') =>
  `import { defineJob } from 'berth';\n${body}export default defineJob({ name: '${name}', task: { image: 'x', local: { command: ['true'] } } });\n`;

describe('berth dev reload with a file that would stop the loader', () => {
  let project: string;
  let engine: LocalEngine;
  const log: string[] = [];
  const before = process.env.BERTH_LOAD_TIMEOUT;

  beforeAll(async () => {
    process.env.BERTH_LOAD_TIMEOUT = '1s';
    project = makeProject('dev-hazard', {});
    writeFileSync(join(project, 'jobs/a.ts'), job('a'));
    engine = await LocalEngine.start({ root: project, port: 0, driver: 'process', log: (l) => log.push(l) });
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
    cleanup(project);
    if (before === undefined) delete process.env.BERTH_LOAD_TIMEOUT;
    else process.env.BERTH_LOAD_TIMEOUT = before;
  });

  const health = async () =>
    (await (await fetch(`${engine.info.url}/api/health`)).json()) as {
      jobs: string[];
      problems: { message: string }[];
    };

  it('a file that loops forever: the engine answers while it loads, then reports it and keeps the others', async () => {
    writeFileSync(join(project, 'jobs/b.ts'), job('b', 'for (;;) {}\n'));
    // While the worker thread spins, this thread still serves requests.
    await new Promise((r) => setTimeout(r, 400));
    const t0 = Date.now();
    expect((await health()).jobs).toContain('a');
    expect(Date.now() - t0).toBeLessThan(500);
    await waitFor(
      () => engine.loadProblems().some((p) => p.file === 'jobs/b.ts'),
      10_000,
      () => log.join('\n'),
    );
    expect((await health()).problems.map((p) => p.message)).toEqual([
      "jobs/b.ts: (file): was still running its top-level code after 1s (a loop that never ends?); berth stopped it — make the file's top-level code finish; if it is only slow, raise the limit with BERTH_LOAD_TIMEOUT=2m",
    ]);
    expect(engine.jobs().map((j) => j.name)).toEqual(['a']);
  }, 30_000);

  it('a file that calls process.exit() is reported; the engine lives on', async () => {
    writeFileSync(join(project, 'jobs/b.ts'), job('b', 'process.exit(0);\n'));
    await waitFor(
      () => engine.loadProblems().some((p) => p.message.includes('calls process.exit(0) while loading')),
      10_000,
      () => log.join('\n'),
    );
    expect((await health()).jobs).toEqual(['a']);
  }, 30_000);

  it('a syntax error: the terminal shows the place and the code frame under the line, then a fix clears it', async () => {
    writeFileSync(
      join(project, 'jobs/b.ts'),
      `import { defineJob } from 'berth';\nexport default defineJob({ name: 'b' task: {} });\n`,
    );
    await waitFor(
      () => log.some((l) => l.includes('jobs/b.ts:2:38')),
      10_000,
      () => log.join('\n'),
    );
    expect(log.find((l) => l.includes('jobs/b.ts:2:38'))).toBe(
      [
        '✖ jobs/b.ts: (file): does not compile: jobs/b.ts:2:38: Expected "}" but found "task" — correct the code at jobs/b.ts:2:38: (keeping the last good version)',
        "    2 │ export default defineJob({ name: 'b' task: {} });",
        '      │                                      ^~~~',
      ].join('\n'),
    );
    writeFileSync(join(project, 'jobs/b.ts'), job('b'));
    await waitFor(
      () => engine.loadProblems().length === 0 && engine.jobs().length === 2,
      10_000,
      () => log.join('\n'),
    );
    expect((await health()).jobs).toEqual(['a', 'b']);
  }, 30_000);
});
