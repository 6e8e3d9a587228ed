/**
 * The task side of the package stays light: `berth/task` and `berth/worker` load on plain Node (no tsx, no
 * TypeScript), and what they import at load holds nothing heavy; so does `import 'berth'` (job and subscriber
 * files), which leaves validation (zod) to the loader. The graph is read from the built package
 * (dist/, what npm ships), following static imports only: a dynamic import() loads only when it is called.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { staticImportGraph } from '../helpers/importGraph.js';
import { REPO_ROOT } from '../loader/tmpProject.js';

/**
 * Never at load on the task side nor in `import 'berth'`: native builds, bundlers, loaders, validation and the
 * CLI's own packages.
 */
const HEAVY = ['better-sqlite3', 'esbuild', 'tsx', 'zod', 'croner', 'chokidar', 'commander', 'typescript'];

describe.each([
  ['dist/task/index.js', []],
  // `import 'berth'`: every job and subscriber file loads it, in a worker per load; the loader validates.
  ['dist/index.js', []],
  // Bundled into every subscriber Lambda.
  ['dist/subscriber/index.js', []],
  // The worker polls SQS: that one client is what it calls.
  ['dist/worker/index.js', ['@aws-sdk/client-sqs']],
])('%s', (entry, allowedSdk) => {
  it('imports nothing heavy at load', async () => {
    const graph = await staticImportGraph(join(REPO_ROOT, entry), REPO_ROOT);
    for (const name of graph.packages()) {
      const where = graph.chain(graph.modules.find((m) => m === name || m.startsWith(`${name}/`))!);
      expect(HEAVY, `${name} enters through ${where?.join(' → ')}`).not.toContain(name);
      if (name.startsWith('@aws-sdk/') || name.startsWith('@smithy/'))
        expect(allowedSdk, `${name} enters through ${where?.join(' → ')}`).toContain(name);
    }
    // Sanity: the walk does see the package's own modules.
    expect(graph.modules.filter((m) => m.startsWith('dist/')).length).toBeGreaterThan(1);
  });
});

describe('the import-graph check itself', () => {
  it('catches a heavy package reached through a chain of modules', async () => {
    const graph = await staticImportGraph(join(REPO_ROOT, 'dist/cli/commands/validate.js'), REPO_ROOT);
    expect(graph.packages()).toEqual(expect.arrayContaining(['zod', 'esbuild']));
    expect(graph.chain('zod')?.[0]).toBe('dist/cli/commands/validate.js');
  });
});

const dir = join(tmpdir(), `berth-task-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('berth/task on plain node', () => {
  it.each([
    [
      'commonjs',
      'task.mjs',
      `import { getTrigger, attempt } from 'berth/task';\nconst t = await getTrigger('s3');\nconsole.log(JSON.stringify({ key: t.key, attempt: attempt() }));\n`,
    ],
    [
      'commonjs',
      'task.cjs',
      `const { getTrigger, attempt } = require('berth/task');\ngetTrigger('s3').then((t) => console.log(JSON.stringify({ key: t.key, attempt: attempt() })));\n`,
    ],
    [
      'module',
      'task.js',
      `import { getTrigger, attempt } from 'berth/task';\nconst t = await getTrigger('s3');\nconsole.log(JSON.stringify({ key: t.key, attempt: attempt() }));\n`,
    ],
  ])('a %s project runs %s with no loader hook', (type, file, source) => {
    const root = join(dir, `${type}-${file}`);
    mkdirSync(join(root, 'node_modules'), { recursive: true });
    symlinkSync(REPO_ROOT, join(root, 'node_modules', 'berth'), 'dir');
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'consumer', type }));
    writeFileSync(join(root, file), source);
    const trigger = {
      kind: 's3',
      bucket: 'uploads',
      key: 'images/cat.jpg',
      size: 3,
      etag: 'abc',
      eventTime: '2026-11-28T10:00:00Z',
    };
    const run = spawnSync(process.execPath, [file], {
      cwd: root,
      encoding: 'utf8',
      timeout: 15_000,
      env: {
        PATH: process.env.PATH,
        BERTH_TRIGGER: JSON.stringify(trigger),
        BERTH_ATTEMPT: '2',
        BERTH_RUN_ID: 'r1',
        BERTH_JOB: 'thumbnail',
        BERTH_MAX_ATTEMPTS: '3',
      },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ key: 'images/cat.jpg', attempt: 2 });
  });
});
