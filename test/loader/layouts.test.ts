/**
 * Job and subscriber files load whatever the project's package.json says about `"type"` (module, commonjs,
 * or nothing), in `.ts`, `.mts`, `.js` and `.mjs`, with ESM or CommonJS syntax. Each project links berth into
 * its own node_modules, as `npm install berth` would.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadJobs } from '../../src/loader/loadJobs.js';
import { loadSubscribers } from '../../src/loader/loadSubscribers.js';
import { makeProject, REPO_ROOT, removeProject } from './tmpProject.js';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) removeProject(root);
});

const task = `{ image: 'public.ecr.aws/docker/library/node:22-alpine' }`;

function project(type: string | undefined): string {
  const pkg = { name: 'consumer', version: '1.0.0', ...(type ? { type } : {}) };
  const root = makeProject(`layout-${type ?? 'none'}`, {
    'package.json': JSON.stringify(pkg),
    'jobs/esm-ts.ts': `import { defineJob } from 'berth';\nimport { suffix } from './_shared';\nexport default defineJob({ name: 'esm-ts' + suffix(), task: ${task} });\n`,
    'jobs/_shared.ts': `export const suffix = (): string => '';\n`,
    'jobs/esm-mts.mts': `import { defineJob } from 'berth';\nconst n: string = 'esm-mts';\nexport default defineJob({ name: n, task: ${task} });\n`,
    'jobs/esm-mjs.mjs': `import { defineJob } from 'berth';\nexport default defineJob({ name: 'esm-mjs', task: ${task} });\n`,
    // A .js file in the project's own style: CommonJS where the type is commonjs or absent, ESM otherwise.
    'jobs/plain-js.js':
      type === 'module'
        ? `import { defineJob } from 'berth';\nexport default defineJob({ name: 'plain-js', task: ${task} });\n`
        : `const { defineJob } = require('berth');\nmodule.exports = defineJob({ name: 'plain-js', task: ${task} });\n`,
    'jobs/meta.ts': `import { defineJob } from 'berth';\nimport { basename } from 'node:path';\nexport default defineJob({ name: 'meta', description: basename(import.meta.filename ?? new URL(import.meta.url).pathname), task: ${task} });\n`,
    'subscribers/page.ts': `import { defineSubscriber } from 'berth';\nexport default defineSubscriber({ on: ['Job Run Failed'] }, async () => {});\n`,
  });
  mkdirSync(join(root, 'node_modules'), { recursive: true });
  symlinkSync(REPO_ROOT, join(root, 'node_modules', 'berth'), 'dir');
  roots.push(root);
  return root;
}

describe.each([['commonjs'], ['module'], [undefined]])('a project whose package.json type is %s', (type) => {
  it.each(['bundle', 'per-file'] as const)(
    'loads .ts, .mts, .js and .mjs job files (%s)',
    async (strategy) => {
      const root = project(type);
      const result = await loadJobs({ root, strategy });
      expect(result.issues).toEqual([]);
      expect(result.jobs.map((j) => [j.name, j.file, j.description])).toEqual([
        ['esm-mjs', 'jobs/esm-mjs.mjs', undefined],
        ['esm-mts', 'jobs/esm-mts.mts', undefined],
        ['esm-ts', 'jobs/esm-ts.ts', undefined],
        // import.meta still names the job's own file, not the bundle.
        ['meta', 'jobs/meta.ts', 'meta.ts'],
        ['plain-js', 'jobs/plain-js.js', undefined],
      ]);
    },
  );

  it('loads subscribers', async () => {
    const root = project(type);
    const loaded = await loadSubscribers(root);
    expect(loaded.map((s) => [s.name, s.file])).toEqual([['page', 'subscribers/page.ts']]);
  });
});

describe('import errors land on their file', () => {
  it('a syntax error names the file and line; the other files still load', async () => {
    const root = project('commonjs');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      join(root, 'jobs', 'broken.ts'),
      `import { defineJob } from 'berth';\nexport default defineJob({ name: 'broken', task: { image: 'x' }\n`,
    );
    const result = await loadJobs({ root });
    expect(result.jobs.map((j) => j.name)).toContain('esm-ts');
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ file: 'jobs/broken.ts', path: '(file)' });
    expect(result.issues[0]!.problem).toBe(
      'does not compile: jobs/broken.ts:3:1: Expected "}" but found end of file',
    );
    expect(result.issues[0]!.fix).toBe('correct the code at jobs/broken.ts:3:1:\n  3 │ \n    │ ^');
  });
});
