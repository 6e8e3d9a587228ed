/**
 * `berth init [dir]`: scaffolds a working project (one example job of each trigger kind, their task scripts,
 * serverless.yml with the plugin, tsconfig.json, .gitignore, package.json scripts and dependencies) in an
 * empty or existing folder. It never overwrites a file: an existing file is kept, an existing package.json or
 * .gitignore only gains what is missing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import pc from 'picocolors';
import { CliError } from '../output.js';

/** The scaffold's files, shipped with the package (`templates/init/`). */
const TEMPLATES = new URL('../../../templates/init/', import.meta.url);

const GITIGNORE = ['node_modules/', '.berth/', '.serverless/'];

interface BerthPackage {
  version: string;
  devDependencies: Record<string, string>;
}

function berthPackage(): BerthPackage {
  return JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as BerthPackage;
}

export interface InitResult {
  dir: string;
  created: string[];
  kept: string[];
  updated: string[];
}

function templateFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = join(dir, name);
      return statSync(full).isDirectory() ? templateFiles(full, `${prefix}${name}/`) : [`${prefix}${name}`];
    });
}

/** A Serverless service name from the folder or package name: letters, digits and '-', starting with a letter. */
export function serviceName(raw: string): string {
  const cleaned = raw
    .replace(/^@[^/]+\//, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 40);
  return cleaned || 'berth-jobs';
}

type PackageJson = Record<string, unknown> & {
  name?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

/** Adds the scripts and dependencies berth needs to a package.json, keeping every value already there. */
export function mergePackageJson(
  pkg: PackageJson,
  berth: BerthPackage,
): { pkg: PackageJson; added: string[] } {
  const added: string[] = [];
  const out: PackageJson = { ...pkg };
  const scripts = { ...(out.scripts ?? {}) };
  for (const [name, command] of Object.entries({
    dev: 'berth dev',
    validate: 'berth validate',
    deploy: 'serverless deploy',
  })) {
    if (scripts[name] === undefined) {
      scripts[name] = command;
      added.push(`scripts.${name}`);
    }
  }
  out.scripts = scripts;
  const deps = { ...(out.dependencies ?? {}) };
  const devDeps = { ...(out.devDependencies ?? {}) };
  const has = (name: string) => deps[name] !== undefined || devDeps[name] !== undefined;
  if (!has('berth')) {
    deps.berth = `^${berth.version}`;
    added.push('dependencies.berth');
  }
  // osls provides the `serverless` command offline, without a licence; typescript and @types/node let the
  // project type-check its jobs. The versions are the ones berth is tested with.
  for (const name of ['osls', 'typescript', '@types/node']) {
    if (!has(name)) {
      devDeps[name] = berth.devDependencies[name] ?? 'latest';
      added.push(`devDependencies.${name}`);
    }
  }
  out.dependencies = sortKeys(deps);
  out.devDependencies = sortKeys(devDeps);
  return { pkg: out, added };
}

function sortKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

export function initProject(target: string): InitResult {
  const dir = resolve(target);
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new CliError(`${target}: is a file — give a folder to scaffold into (berth init my-jobs)`);
  mkdirSync(dir, { recursive: true });
  const result: InitResult = { dir, created: [], kept: [], updated: [] };
  const templates = new URL(TEMPLATES);
  const berth = berthPackage();

  const pkgFile = join(dir, 'package.json');
  let pkg: PackageJson = {};
  if (existsSync(pkgFile)) {
    try {
      pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as PackageJson;
    } catch (error) {
      throw new CliError(
        `package.json: is not valid JSON (${(error as Error).message}) — fix it, then run berth init again`,
      );
    }
  }
  const service = serviceName(pkg.name ?? basename(dir));

  for (const file of templateFiles(fileURLToPath(templates))) {
    const dest = join(dir, file);
    if (existsSync(dest)) {
      result.kept.push(file);
      continue;
    }
    mkdirSync(join(dest, '..'), { recursive: true });
    const text = readFileSync(new URL(file, templates), 'utf8').replaceAll('__SERVICE__', service);
    writeFileSync(dest, text, { flag: 'wx' });
    result.created.push(file);
  }

  const gitignore = join(dir, '.gitignore');
  if (existsSync(gitignore)) {
    const text = readFileSync(gitignore, 'utf8');
    const lines = new Set(text.split(/\r?\n/).map((l) => l.trim()));
    const missing = GITIGNORE.filter((l) => !lines.has(l) && !lines.has(l.replace(/\/$/, '')));
    if (missing.length) {
      writeFileSync(gitignore, `${text}${text.endsWith('\n') || !text ? '' : '\n'}${missing.join('\n')}\n`);
      result.updated.push(`.gitignore (+ ${missing.join(', ')})`);
    } else result.kept.push('.gitignore');
  } else {
    writeFileSync(gitignore, `${GITIGNORE.join('\n')}\n`, { flag: 'wx' });
    result.created.push('.gitignore');
  }

  const existed = existsSync(pkgFile);
  if (!existed) pkg = { name: service, version: '0.1.0', private: true };
  const merged = mergePackageJson(pkg, berth);
  if (!existed || merged.added.length) {
    writeFileSync(pkgFile, `${JSON.stringify(merged.pkg, null, 2)}\n`);
    if (existed) result.updated.push(`package.json (+ ${merged.added.join(', ')})`);
    else result.created.push('package.json');
  } else result.kept.push('package.json');
  return result;
}

export function registerInit(program: Command): void {
  program
    .command('init [dir]')
    .description('Scaffold a berth project here (or in dir): example jobs, tasks, serverless.yml, scripts')
    .option('--json', 'print { dir, created, kept, updated } as JSON')
    .action((dir: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const root = (cmd.parent?.opts() as { cwd?: string } | undefined)?.cwd ?? process.cwd();
      const result = initProject(resolve(root, dir ?? '.'));
      if (opts.json) {
        console.log(JSON.stringify(result, null, 2));
        return;
      }
      for (const f of result.created) console.log(`${pc.green('created')} ${f}`);
      for (const f of result.updated) console.log(`${pc.yellow('updated')} ${f}`);
      for (const f of result.kept) console.log(`${pc.dim('kept')}    ${f} (already there)`);
      const rel = relative(process.cwd(), result.dir);
      const cd = rel ? `cd ${rel} && ` : '';
      console.log(`\nNext:\n  ${cd}npm install     # berth, osls (the serverless command), typescript`);
      console.log('  npm run dev                # runs the example jobs locally: no AWS, no Docker');
    });
}
