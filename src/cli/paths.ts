/**
 * The project's root and jobs folder from the global options: kept apart so light commands need no loader.
 *
 * The jobs folder has ONE resolution, used by every command: `--jobs-dir` when given, else
 * `custom.berth.jobsDir` (serverless.yml, or the JSON file of `--config` for validate and synth), else `jobs`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from './output.js';

export interface GlobalOptions {
  cwd?: string;
  jobsDir?: string;
}

export const DEFAULT_JOBS_DIR = 'jobs';

/** `--jobs-dir` when the user gave it (argv or environment), else undefined. */
export function jobsDirFlag(cmd: Command): string | undefined {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  if (opts.jobsDir === undefined) return undefined;
  const source = cmd.getOptionValueSourceWithGlobals('jobsDir');
  return source === 'default' ? undefined : opts.jobsDir;
}

/** The jobs folder: the flag, else the config's `jobsDir`, else `jobs`. */
export function resolveJobsDir(flag: string | undefined, config: unknown, configFile: string): string {
  if (flag !== undefined) return flag;
  const fromConfig =
    config && typeof config === 'object' ? (config as Record<string, unknown>).jobsDir : undefined;
  if (fromConfig === undefined || fromConfig === null) return DEFAULT_JOBS_DIR;
  if (typeof fromConfig !== 'string' || fromConfig.trim() === '') {
    throw new CliError(
      `${configFile}: custom.berth.jobsDir must be a folder path relative to the project (e.g. jobsDir: src/jobs), got ${JSON.stringify(fromConfig)}`,
    );
  }
  if (fromConfig.includes('${')) {
    throw new CliError(
      `${configFile}: custom.berth.jobsDir is "${fromConfig}" — berth reads it before Serverless resolves variables; write the folder literally (e.g. jobsDir: src/jobs) or pass --jobs-dir`,
    );
  }
  return fromConfig;
}

/** The project root alone (`-C`, else the current directory): reads no file. */
export function projectRoot(cmd: Command): string {
  return resolve(cmd.optsWithGlobals<GlobalOptions>().cwd ?? process.cwd());
}

/** The project root and its jobs folder (see the resolution above). */
export function projectPaths(cmd: Command): { root: string; jobsDir: string } {
  const root = projectRoot(cmd);
  const flag = jobsDirFlag(cmd);
  if (flag !== undefined) return { root, jobsDir: flag };
  const yml = readServerlessYml(root);
  return { root, jobsDir: resolveJobsDir(undefined, yml.berth, yml.file ?? 'serverless.yml') };
}

/** What berth reads of the project's serverless.yml. */
export interface ServerlessYml {
  /** The file read (`serverless.yml`, `.yaml` or `.json`), relative to the root; undefined when none exists. */
  file?: string;
  /** `service:`; undefined when absent or not a plain name. */
  service?: string;
  /** `custom.berth`, when the YAML could be read. */
  berth?: unknown;
}

/**
 * `service:` and `custom.berth` of the project's serverless.yml, read synchronously. The YAML parser loads only
 * when the file mentions something under `custom.berth` that the caller needs (`needBerth`), or `jobsDir`, so
 * `berth send` and friends stay light in a project that keeps the default layout.
 */
export function readServerlessYml(root: string, needBerth = false): ServerlessYml {
  const name = SERVERLESS_FILES.find((f) => existsSync(join(root, f)));
  if (name === undefined) return {};
  const text = readFileSync(join(root, name), 'utf8');
  // Top level only (`service:` at the start of a line); the parse below also reads a JSON file's.
  const service = /^['"]?service['"]?\s*:\s*['"]?([A-Za-z0-9-]+)/m.exec(text)?.[1];
  const out: ServerlessYml = service === undefined ? { file: name } : { file: name, service };
  if (!/\bberth['"]?\s*:/.test(text) || (!needBerth && !/\bjobsDir\b/.test(text))) return out;
  // JSON is YAML too: one parser for the three.
  const doc = parseYaml(text, name) as { service?: unknown; custom?: { berth?: unknown } } | undefined;
  if (!doc || typeof doc !== 'object') return out;
  if (typeof doc.service === 'string' && /^[A-Za-z0-9-]+$/.test(doc.service)) out.service = doc.service;
  const berth = doc.custom?.berth;
  return berth === undefined ? out : { ...out, berth };
}

/** The service files Serverless reads that berth can read too (serverless.ts/.js need Serverless itself). */
const SERVERLESS_FILES = ['serverless.yml', 'serverless.yaml', 'serverless.json'];

/** CloudFormation's short-form tags (`!Ref`, `!GetAtt`, …) as their long form, so a serverless.yml using them parses. */
const CFN_TAGS = [
  'Ref',
  'Condition',
  'GetAtt',
  'Sub',
  'Join',
  'Select',
  'Split',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'FindInMap',
  'ImportValue',
  'Base64',
  'Cidr',
  'GetAZs',
  'Transform',
];

interface JsYaml {
  load(text: string, options?: { schema?: unknown; filename?: string }): unknown;
  Type: new (tag: string, options: { kind: string; construct: (data: unknown) => unknown }) => unknown;
  DEFAULT_SCHEMA: { extend(types: unknown[]): unknown };
}

let yamlSchema: { yaml: JsYaml; schema: unknown } | null | undefined;

function loadJsYaml(): { yaml: JsYaml; schema: unknown } | null {
  if (yamlSchema !== undefined) return yamlSchema;
  try {
    // js-yaml is berth's own dependency (never a package hoisted from osls: pnpm's layout would hide it);
    // loaded only when a serverless.yml needs reading.
    const yaml = createRequire(import.meta.url)('js-yaml') as JsYaml;
    const types = CFN_TAGS.flatMap((name) =>
      ['scalar', 'sequence', 'mapping'].map(
        (kind) =>
          new yaml.Type(`!${name}`, {
            kind,
            construct: (data) =>
              name === 'Ref' || name === 'Condition'
                ? { [name]: data }
                : { [`Fn::${name}`]: name === 'GetAtt' && typeof data === 'string' ? data.split('.') : data },
          }),
      ),
    );
    yamlSchema = { yaml, schema: yaml.DEFAULT_SCHEMA.extend(types) };
  } catch {
    yamlSchema = null;
  }
  return yamlSchema;
}

function parseYaml(text: string, file: string): unknown {
  const loaded = loadJsYaml();
  if (!loaded) {
    throw new CliError(
      `${file}: cannot load js-yaml, berth's YAML reader — reinstall berth (npm i berth), or pass --jobs-dir / --config`,
    );
  }
  try {
    return loaded.yaml.load(text, { schema: loaded.schema, filename: file });
  } catch (error) {
    throw new CliError(`${file}: cannot read it as YAML — ${(error as Error).message.split('\n')[0]}`);
  }
}
