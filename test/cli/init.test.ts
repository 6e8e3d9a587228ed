import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergePackageJson, serviceName } from '../../src/cli/commands/init.js';
import { loadJobs } from '../../src/loader/loadJobs.js';
import { REPO_ROOT } from '../loader/tmpProject.js';
import { runBerth } from './runCli.js';

const dirs: string[] = [];
function tempDir(label: string): string {
  const dir = join(tmpdir(), `berth-init-${label}-${process.pid}-${dirs.length}`);
  rmSync(dir, { recursive: true, force: true });
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const berthPkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
};

describe('berth init', () => {
  it('scaffolds a working project into a new folder and prints the next two commands', async () => {
    const parent = tempDir('new');
    mkdirSync(parent, { recursive: true });
    const run = runBerth(['init', 'my-jobs'], { cwd: parent });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const dir = join(parent, 'my-jobs');
    for (const f of [
      'jobs/thumbnail.ts',
      'jobs/nightly-report.ts',
      'jobs/process-order.ts',
      'jobs/reindex.ts',
      'tasks/thumbnail.mjs',
      'serverless.yml',
      'tsconfig.json',
      '.gitignore',
      'package.json',
    ])
      expect(run.stdout).toContain(`created ${f}`);
    expect(run.stdout).toMatch(/Next:\n {2}cd my-jobs && npm install .*\n {2}npm run dev /);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('my-jobs');
    expect(pkg.scripts).toEqual({
      dev: 'berth dev',
      validate: 'berth validate',
      deploy: 'serverless deploy',
    });
    expect(pkg.dependencies).toEqual({ berth: `^${berthPkg.version}` });
    expect(pkg.devDependencies.osls).toBe(berthPkg.devDependencies.osls);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8').split('\n')).toEqual(
      expect.arrayContaining(['node_modules/', '.berth/', '.serverless/']),
    );
    expect(readFileSync(join(dir, 'serverless.yml'), 'utf8')).toMatch(/^service: my-jobs$/m);
    expect(readFileSync(join(dir, 'serverless.yml'), 'utf8')).toContain('  - berth/plugin');

    // The scaffolded jobs are valid, one of each trigger kind.
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(REPO_ROOT, join(dir, 'node_modules', 'berth'), 'dir');
    const loaded = await loadJobs({ root: dir });
    expect(loaded.issues).toEqual([]);
    const kinds = loaded.jobs.map((j) => [j.name, j.triggers.map((t) => t.kind).join(',') || 'manual']);
    expect(kinds).toEqual([
      ['nightly-report', 'schedule'],
      ['process-order', 'queue'],
      ['reindex', 'manual'],
      ['thumbnail', 's3'],
    ]);
  });

  it('never overwrites: existing files are kept, package.json and .gitignore only gain what is missing', () => {
    const dir = tempDir('existing');
    mkdirSync(join(dir, 'jobs'), { recursive: true });
    const mine = '// my own thumbnail job\n';
    writeFileSync(join(dir, 'jobs', 'thumbnail.ts'), mine);
    writeFileSync(join(dir, '.gitignore'), 'dist\nnode_modules\n');
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: '@acme/Billing Jobs',
        type: 'commonjs',
        scripts: { dev: 'vite' },
        dependencies: { berth: 'file:../berth.tgz' },
      }),
    );
    const run = runBerth(['init', '--json'], { cwd: dir });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.kept).toContain('jobs/thumbnail.ts');
    expect(result.created).toContain('jobs/reindex.ts');
    expect(result.created).not.toContain('package.json');
    expect(readFileSync(join(dir, 'jobs', 'thumbnail.ts'), 'utf8')).toBe(mine);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('dist\nnode_modules\n.berth/\n.serverless/\n');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg.type).toBe('commonjs');
    expect(pkg.scripts.dev).toBe('vite');
    expect(pkg.scripts.validate).toBe('berth validate');
    expect(pkg.dependencies.berth).toBe('file:../berth.tgz');
    expect(readFileSync(join(dir, 'serverless.yml'), 'utf8')).toMatch(/^service: billing-jobs$/m);

    // A second run changes nothing.
    const again = JSON.parse(runBerth(['init', '--json'], { cwd: dir }).stdout);
    expect(again.created).toEqual([]);
    expect(again.updated).toEqual([]);
  });

  it('refuses a file as the target and a package.json that is not JSON, naming the fix', () => {
    const dir = tempDir('bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'afile'), 'x');
    const onFile = runBerth(['init', 'afile'], { cwd: dir });
    expect(onFile.code).toBe(1);
    expect(onFile.stderr).toContain('afile: is a file — give a folder to scaffold into');
    writeFileSync(join(dir, 'package.json'), '{ nope');
    const badJson = runBerth(['init'], { cwd: dir });
    expect(badJson.code).toBe(1);
    expect(badJson.stderr).toContain('package.json: is not valid JSON');
    expect(existsSync(join(dir, 'jobs'))).toBe(false);
  });
});

describe('init helpers', () => {
  it('serviceName makes a Serverless service name', () => {
    expect(serviceName('@acme/Billing Jobs')).toBe('billing-jobs');
    expect(serviceName('123-go')).toBe('go');
    expect(serviceName('!!!')).toBe('berth-jobs');
  });
  it('mergePackageJson keeps berth from devDependencies where it already is', () => {
    const { pkg, added } = mergePackageJson({ devDependencies: { berth: '^0.0.1' } }, berthPkg);
    expect(pkg.dependencies?.berth).toBeUndefined();
    expect(added).not.toContain('dependencies.berth');
  });
});
