/**
 * Job and subscriber files that would stop or hang the process that loads them: `process.exit()`, a
 * top-level await that never settles or waits too long, a loop that never ends, an exit from a callback, an
 * import cycle. Each becomes a `(file)` problem naming the file and what it did; the other files still load,
 * and this test process (which ran the loader) is still here to check it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { formatJobIssue } from '../../src/core/errors.js';
import { loadJobs } from '../../src/loader/loadJobs.js';
import { DEFAULT_LOAD_TIMEOUT_MS, loadTimeoutMs } from '../../src/loader/loadProblems.js';
import { loadSubscribers } from '../../src/loader/loadSubscribers.js';
import { jobFile, makeProject, removeProject, validJob } from './tmpProject.js';

const roots: string[] = [];
function project(files: Record<string, string>): string {
  const root = makeProject('hazard', files);
  roots.push(root);
  return root;
}
afterAll(() => {
  for (const root of roots) removeProject(root);
});

const JOB_HEAD = `import { defineJob } from 'berth';\n`;
const JOB_TAIL = `export default defineJob({ name: 'bad', task: { image: 'x' } });\n`;
const LIMIT_MS = 2000;

describe.each(['bundle', 'per-file'] as const)(
  'a job file that would stop the loader (strategy %s)',
  (strategy) => {
    it('calls process.exit(): an error naming the file and the exit code; the others load', async () => {
      const root = project({
        'jobs/a-good.ts': jobFile(validJob('a-good')),
        'jobs/b-exits.ts': `${JOB_HEAD}if (!process.env.NOPE_URL) { console.error('no url'); process.exit(3); }\n${JOB_TAIL}`,
        'jobs/c-good.ts': jobFile(validJob('c-good')),
      });
      const result = await loadJobs({ root, strategy, timeoutMs: LIMIT_MS });
      expect(result.jobs.map((j) => j.name)).toEqual(['a-good', 'c-good']);
      expect(result.issues.map(formatJobIssue)).toEqual([
        'jobs/b-exits.ts: (file): calls process.exit(3) while loading — throw an Error instead (berth reports it with the file), or move that code into the task: a job file only declares the job',
      ]);
    });

    it('kills its own process: an error naming the call; this process lives on', async () => {
      const root = project({
        'jobs/a-good.ts': jobFile(validJob('a-good')),
        'jobs/b-kills.ts': `${JOB_HEAD}process.kill(process.pid, 'SIGTERM');\n${JOB_TAIL}`,
      });
      const result = await loadJobs({ root, strategy, timeoutMs: LIMIT_MS });
      expect(result.jobs.map((j) => j.name)).toEqual(['a-good']);
      expect(result.issues.map(formatJobIssue)).toEqual([
        'jobs/b-kills.ts: (file): calls process.kill(process.pid, "SIGTERM") while loading — throw an Error instead (berth reports it with the file), or move that code into the task: a job file only declares the job',
      ]);
    });

    it('awaits a promise nothing settles: an error at once, without waiting for the time limit', async () => {
      const root = project({
        'jobs/a-good.ts': jobFile(validJob('a-good')),
        'jobs/b-never.ts': `${JOB_HEAD}await new Promise(() => {});\n${JOB_TAIL}`,
        'jobs/c-good.ts': jobFile(validJob('c-good')),
      });
      const started = Date.now();
      const result = await loadJobs({ root, strategy, timeoutMs: 20_000 });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(result.jobs.map((j) => j.name)).toEqual(['a-good', 'c-good']);
      expect(result.issues.map(formatJobIssue)).toEqual([
        'jobs/b-never.ts: (file): never finishes loading: its top-level await waits on a promise nothing settles — remove that await or make sure what it waits for settles; a job file only declares the job',
      ]);
    });

    it('awaits past the time limit: an error naming the limit', async () => {
      const root = project({
        'jobs/a-slow.ts': `${JOB_HEAD}await new Promise((r) => setTimeout(r, 60_000));\n${JOB_TAIL}`,
        'jobs/b-good.ts': jobFile(validJob('b-good')),
      });
      const started = Date.now();
      const result = await loadJobs({ root, strategy, timeoutMs: LIMIT_MS });
      expect(Date.now() - started).toBeLessThan(LIMIT_MS + 8_000);
      expect(result.jobs.map((j) => j.name)).toEqual(['b-good']);
      expect(result.issues.map(formatJobIssue)).toEqual([
        "jobs/a-slow.ts: (file): had not finished loading after 2s: its top-level await was still waiting — don't wait on the network or long work at the top of a job file; if it is only slow, raise the limit with BERTH_LOAD_TIMEOUT=2m",
      ]);
    });

    it('loops forever: berth stops it at the time limit, names the file and loads the files after it', async () => {
      const root = project({
        'jobs/a-good.ts': jobFile(validJob('a-good')),
        'jobs/b-loops.ts': `${JOB_HEAD}let n = 0;\nwhile (n >= 0) n++;\n${JOB_TAIL}`,
        'jobs/c-good.ts': jobFile(validJob('c-good')),
      });
      const started = Date.now();
      const result = await loadJobs({ root, strategy, timeoutMs: LIMIT_MS });
      expect(Date.now() - started).toBeLessThan(LIMIT_MS + 8_000);
      expect(result.jobs.map((j) => j.name)).toEqual(['a-good', 'c-good']);
      expect(result.issues.map(formatJobIssue)).toEqual([
        "jobs/b-loops.ts: (file): was still running its top-level code after 2s (a loop that never ends?); berth stopped it — make the file's top-level code finish; if it is only slow, raise the limit with BERTH_LOAD_TIMEOUT=2m",
      ]);
    });

    it('exits from a callback while its top-level await waits: named as an exit from a callback', async () => {
      const root = project({
        'jobs/a-good.ts': jobFile(validJob('a-good')),
        'jobs/b-later.ts': `${JOB_HEAD}await new Promise((r) => setTimeout(() => { process.exit(2); r(undefined); }, 20));\n${JOB_TAIL}`,
      });
      const result = await loadJobs({ root, strategy, timeoutMs: LIMIT_MS });
      expect(result.jobs.map((j) => j.name)).toEqual(['a-good']);
      expect(result.issues.map(formatJobIssue)).toEqual([
        'jobs/b-later.ts: (file): calls process.exit(2) while loading (from a callback) — throw an Error instead, or move that code into the task: a job file only declares the job',
      ]);
    });

    it('names an import cycle between job files, the same in both strategies', async () => {
      const root = project({
        'jobs/a.ts': `${JOB_HEAD}import { IMAGE } from './b.js';\nexport const PREFIX = 'a';\nexport default defineJob({ name: 'a', task: { image: IMAGE } });\n`,
        'jobs/b.ts': `${JOB_HEAD}import { PREFIX } from './a.js';\nexport const IMAGE = 'x';\nexport default defineJob({ name: PREFIX + '-b', task: { image: IMAGE } });\n`,
        'jobs/c.ts': `${JOB_HEAD}import { helper } from './_helper.js';\nexport const NAME = 'c';\nexport default defineJob({ name: helper(), task: { image: 'x' } });\n`,
        'jobs/_helper.ts': `import { NAME } from './c.js';\nexport const helper = () => NAME;\n`,
        'jobs/d-good.ts': jobFile(validJob('d-good')),
      });
      const result = await loadJobs({ root, strategy, timeoutMs: LIMIT_MS });
      expect(result.jobs.map((j) => j.name)).toEqual(['d-good']);
      const fix =
        'move what these files share into a helper file that imports none of them (a _-prefixed file, such as jobs/_shared.ts, is not loaded as a job); berth loads job files in no set order, so a value read across a cycle may not be set yet';
      expect(result.issues.map(formatJobIssue)).toEqual([
        `jobs/a.ts: (file): is part of an import cycle: jobs/a.ts → jobs/b.ts → jobs/a.ts — ${fix}`,
        `jobs/b.ts: (file): is part of an import cycle: jobs/b.ts → jobs/a.ts → jobs/b.ts — ${fix}`,
        `jobs/c.ts: (file): is part of an import cycle: jobs/c.ts → jobs/_helper.ts → jobs/c.ts — ${fix}`,
      ]);
    });

    it('a job file that throws because its helpers import each other names their cycle', async () => {
      const root = project({
        'jobs/_names.ts': `import { IMAGE } from './_images.js';\nexport const BASE = 'report';\nexport const FULL = BASE + IMAGE;\n`,
        'jobs/_images.ts': `import { BASE } from './_names.js';\nexport const IMAGE = BASE.toUpperCase();\n`,
        'jobs/report.ts': `${JOB_HEAD}import { FULL } from './_names.js';\nexport default defineJob({ name: FULL, task: { image: 'x' } });\n`,
        'jobs/z-good.ts': jobFile(validJob('z-good')),
      });
      const result = await loadJobs({ root, strategy, timeoutMs: LIMIT_MS });
      expect(result.jobs.map((j) => j.name)).toEqual(['z-good']);
      // File by file Node throws `Cannot access 'BASE' before initialization`; in one bundle BASE reads undefined.
      expect(result.issues).toEqual([
        {
          file: 'jobs/report.ts',
          path: '(file)',
          problem: expect.stringMatching(
            /^throws on import: .+ \(the files it imports form an import cycle, where a value can be read before it is set: jobs\/_names\.ts → jobs\/_images\.ts → jobs\/_names\.ts\)$/,
          ),
          fix: 'break the cycle: move what those files share into a file that imports none of them; if the cycle is not the cause, fix the error',
        },
      ]);
    });
  },
);

describe('subscribers that would stop the loader', () => {
  it('a subscriber that calls process.exit() is named, and never runs in this process', async () => {
    const root = project({
      'subscribers/exits.ts': `import { defineSubscriber } from 'berth';\nprocess.exit(1);\nexport default defineSubscriber({ on: ['Job Run Failed'] }, async () => {});\n`,
    });
    await expect(loadSubscribers(root, { timeoutMs: LIMIT_MS })).rejects.toThrow(
      'subscribers/exits.ts: (file): calls process.exit(1) while loading — throw an Error instead',
    );
  });

  it('a subscriber that loops forever is stopped and named', async () => {
    const root = project({
      'subscribers/loops.ts': `import { defineSubscriber } from 'berth';\nfor (;;) {}\nexport default defineSubscriber({ on: ['Job Run Failed'] }, async () => {});\n`,
    });
    await expect(loadSubscribers(root, { timeoutMs: LIMIT_MS })).rejects.toThrow(
      'subscribers/loops.ts: (file): was still running its top-level code after 2s (a loop that never ends?)',
    );
  });

  it('a subscriber with a syntax error shows its place and a code frame', async () => {
    const root = project({
      'subscribers/typo.ts': `import { defineSubscriber } from 'berth';\nexport default defineSubscriber({ on: ['Job Run Failed'] }, async () => {);\n`,
    });
    const error = await loadSubscribers(root).catch((e: unknown) => e as Error);
    expect((error as Error).message).toBe(
      [
        'subscribers/typo.ts: (file): does not compile: subscribers/typo.ts:2:74: Unexpected ")" — correct the code at subscribers/typo.ts:2:74:',
        "  2 │ export default defineSubscriber({ on: ['Job Run Failed'] }, async () => {);",
        '    │                                                                          ^',
      ].join('\n'),
    );
  });

  it('subscribers that load in the worker are imported here, with their handlers', async () => {
    const root = project({
      'subscribers/ok.ts': `import { defineSubscriber } from 'berth';\nexport default defineSubscriber({ on: ['Job Run Failed'] }, async () => 'handled');\n`,
    });
    const loaded = await loadSubscribers(root, { timeoutMs: LIMIT_MS });
    expect(loaded.map((s) => [s.name, s.file])).toEqual([['ok', 'subscribers/ok.ts']]);
    const handler = (loaded[0]?.subscriber as { handler: () => Promise<string> } | undefined)?.handler;
    expect(await handler?.()).toBe('handled');
  });
});

describe('the load time limit', () => {
  it('is 30 s unless the option or BERTH_LOAD_TIMEOUT says otherwise', () => {
    expect(DEFAULT_LOAD_TIMEOUT_MS).toBe(30_000);
    expect(loadTimeoutMs(undefined, {})).toBe(30_000);
    expect(loadTimeoutMs(undefined, { BERTH_LOAD_TIMEOUT: '5s' })).toBe(5000);
    expect(loadTimeoutMs(undefined, { BERTH_LOAD_TIMEOUT: '750ms' })).toBe(750);
    expect(loadTimeoutMs(undefined, { BERTH_LOAD_TIMEOUT: '2' })).toBe(2000);
    expect(loadTimeoutMs(1234, { BERTH_LOAD_TIMEOUT: '5s' })).toBe(1234);
  });

  it('a BERTH_LOAD_TIMEOUT that is not a duration is an error naming the variable and the fix', () => {
    for (const bad of ['soon', '0', '-5s', '10 minutes'])
      expect(() => loadTimeoutMs(undefined, { BERTH_LOAD_TIMEOUT: bad })).toThrow(
        `BERTH_LOAD_TIMEOUT="${bad}" is not a time limit — write a duration such as 30s, 2m or 500ms (a bare number is seconds)`,
      );
  });
});
