/**
 * Imports a project's own files (job files, subscribers) whatever the project's layout: TypeScript or
 * JavaScript (`.ts`, `.mts`, `.js`, `.mjs`), ESM or CommonJS syntax, in a package whose `"type"` is
 * `module`, `commonjs` or absent. esbuild bundles the files into one ESM module in a temporary folder, so the
 * project's `"type"` never decides how a file is read and no loader hook (tsx) is registered in the process.
 * Every load bundles afresh, so `berth dev` sees a file edited since the last load.
 *
 * The files run in a worker thread with a time limit (`loadWorker.ts`): a file that calls `process.exit()`,
 * awaits something that never settles or loops forever is reported by name, and berth goes on. A build error
 * is reported with its place and a code frame; a job file that imports itself through other files is
 * reported with the cycle (`loadProblems.ts`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Loader, type OnResolveArgs, type Plugin } from 'esbuild';
import {
  type BuildMessage,
  buildFailure,
  crashedFailure,
  cycleBelow,
  cycleBelowFailure,
  cycleFailure,
  findImportCycles,
  type ImportGraph,
  type LoadFailure,
  loadTimeoutMs,
  neverSettlesFailure,
  notLoadedFailure,
  thrownFailure,
  timeoutFailure,
} from './loadProblems.js';
import { type FileEnd, type JobExport, LoadWorker, type WorkerInput, type WorkerMode } from './loadWorker.js';

/**
 * Bare imports (`berth`, the project's own packages) stay outside the bundle, pinned to the file esbuild
 * resolves them to from the importing file's folder: the bundle lives in a temporary folder, where a bare name
 * would not resolve, and `berth` must be the package the project installed. `import` keeps a file URL;
 * `require()` gets the absolute path (a CommonJS job file that requires `berth`).
 */
const pinPackages: Plugin = {
  name: 'berth-pin-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'berth-inner' || args.path.startsWith('node:')) return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'berth-inner',
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      if (resolved.external) return { path: args.path, external: true };
      const path = args.kind === 'require-call' ? resolved.path : pathToFileURL(resolved.path).href;
      return { path, external: true };
    });
  },
};

/**
 * For job files only (`jobs` mode): `import … from 'berth'` is bundled, not imported, with berth's modules
 * marked free of side effects, so esbuild keeps only what the file uses (`defineJob`: a few lines) and the
 * worker thread does not load all of berth (zod and the rest, most of a load's cost) to read a definition.
 * Still the package the project installed; a `require('berth')` stays an import of the whole package.
 */
function inlineBerth(berthDir: string): Plugin {
  const inside = (path: string) => path.startsWith(berthDir + sep);
  return {
    name: 'berth-inline-berth',
    setup(b) {
      const resolve = async (args: OnResolveArgs) => {
        const resolved = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'berth-inner',
        });
        if (resolved.errors.length > 0 || resolved.external || !inside(resolved.path)) return undefined;
        return { path: resolved.path, sideEffects: false };
      };
      b.onResolve({ filter: /^berth$/ }, (args) =>
        args.pluginData === 'berth-inner' || args.kind !== 'import-statement' ? undefined : resolve(args),
      );
      b.onResolve({ filter: /^\./ }, (args) =>
        args.pluginData === 'berth-inner' || !inside(args.importer) ? undefined : resolve(args),
      );
    },
  };
}

const LOADERS: Record<string, Loader> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
};

/**
 * `import.meta.url`, `.dirname` and `.filename` keep meaning the file that reads them (not the bundle):
 * each of the project's own modules gets them replaced by its own path as it is loaded.
 */
const ownImportMeta: Plugin = {
  name: 'berth-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
      if (args.path.split(sep).includes('node_modules')) return undefined;
      const loader = LOADERS[extname(args.path)];
      if (!loader) return undefined;
      let contents = await readFile(args.path, 'utf8');
      if (contents.includes('import.meta')) {
        const values: Record<string, string> = {
          url: pathToFileURL(args.path).href,
          dirname: dirname(args.path),
          filename: args.path,
        };
        contents = contents.replace(/\bimport\.meta\.(url|dirname|filename)\b/g, (_m, key: string) =>
          JSON.stringify(values[key]),
        );
      }
      return { contents, loader, resolveDir: dirname(args.path) };
    });
  },
};

/**
 * Lets a bundled `require()` (CommonJS job files, their CommonJS helpers) work in the ESM bundle, and tells
 * the worker thread (`loadWorker.ts`) that the built file's imports are loaded and its own code starts.
 */
const REQUIRE_BANNER =
  "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url); globalThis.__berthEvaluating?.();";

const BASE: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  write: false,
  logLevel: 'silent',
  banner: { js: REQUIRE_BANNER },
  metafile: true,
  plugins: [pinPackages, ownImportMeta],
};

export type ImportStrategy = 'bundle' | 'per-file';

export interface ImportOptions {
  /** @default 'bundle' */
  strategy?: ImportStrategy;
  /** Time limit for running the files; @default BERTH_LOAD_TIMEOUT, else 30 s (`loadTimeoutMs`). */
  timeoutMs?: number;
}

/** How one file loaded: its value, or why it did not. */
export type FileResult<T> = { ok: true; value: T } | { ok: false; failure: LoadFailure };

function posix(path: string): string {
  return path.split(sep).join('/');
}

function messagesOf(error: unknown): BuildMessage[] {
  return (error as { errors?: BuildMessage[] })?.errors ?? [];
}

/** The built files of one load, in a temporary folder: one bundle, or one module per file. */
interface Built {
  bundle?: string;
  files?: (string | null)[];
  graphs: ImportGraph[];
  /** Files that could not be built (per file). */
  failures: Map<number, LoadFailure>;
}

/**
 * All files in one bundle: each file is a lazily initialised module behind its own loader, so a file that
 * throws still fails alone, with its own error. `undefined` when the bundle cannot be built (a syntax error
 * somewhere): the caller then builds file by file, which puts each error on its own file.
 */
async function buildBundle(
  files: string[],
  root: string,
  dir: string,
  base: BuildOptions,
): Promise<Built | undefined> {
  try {
    const result = await build({
      ...base,
      absWorkingDir: root,
      stdin: {
        contents: `export default [\n${files.map((f) => `  () => import(${JSON.stringify(f)}),`).join('\n')}\n];\n`,
        resolveDir: root,
        loader: 'js',
        sourcefile: 'berth-files.js',
      },
    });
    const file = join(dir, 'bundle.mjs');
    writeFileSync(file, result.outputFiles?.[0]?.text ?? '');
    return {
      bundle: pathToFileURL(file).href,
      graphs: [result.metafile as ImportGraph],
      failures: new Map(),
    };
  } catch {
    return undefined;
  }
}

async function buildEach(files: string[], root: string, dir: string, base: BuildOptions): Promise<Built> {
  const failures = new Map<number, LoadFailure>();
  const graphs: ImportGraph[] = [];
  const urls = await Promise.all(
    files.map(async (f, i) => {
      try {
        const result = await build({ ...base, absWorkingDir: root, entryPoints: [f] });
        const file = join(dir, `file-${i}.mjs`);
        writeFileSync(file, result.outputFiles?.[0]?.text ?? '');
        graphs.push(result.metafile as ImportGraph);
        return pathToFileURL(file).href;
      } catch (error) {
        failures.set(i, buildFailure(messagesOf(error), (error as Error)?.message ?? String(error)));
        return null;
      }
    }),
  );
  return { files: urls, graphs, failures };
}

/** The entry file of the berth package the project installed, if any. */
function berthEntry(root: string): string | undefined {
  try {
    return createRequire(join(root, 'package.json')).resolve('berth');
  } catch {
    return undefined;
  }
}

function failureOf(
  end: FileEnd,
  timeoutMs: number,
  graphs: readonly ImportGraph[],
  file: string,
): LoadFailure | undefined {
  switch (end.status) {
    case 'loaded':
      return undefined;
    case 'threw': {
      const cycle = end.error.call === undefined ? cycleBelow(graphs, file) : undefined;
      return cycle ? cycleBelowFailure(end.error.message, cycle) : thrownFailure(end.error);
    }
    case 'not-started':
      return notLoadedFailure(timeoutMs);
    case 'unfinished':
      if (end.why === 'never-settles') return neverSettlesFailure();
      if (end.why === 'crashed') return crashedFailure(end.error ?? { message: 'the loader thread stopped' });
      return timeoutFailure(timeoutMs, end.why === 'timeout-running');
  }
}

/**
 * Runs the files of `built` in worker threads until each has ended. A worker stopped at the time limit (or
 * by a crash) is replaced by a fresh one for the files it never started, until three times the limit has
 * passed.
 * `undefined` when the bundle itself cannot load (a package it imports throws): the caller builds per file.
 */
async function runBuilt(
  built: Built,
  order: number[],
  mode: WorkerMode,
  timeoutMs: number,
  nextWorker: () => LoadWorker,
): Promise<Map<number, FileEnd> | undefined> {
  const ends = new Map<number, FileEnd>();
  // Each busy file costs a worker and one time limit; past three, the files not yet started are left out.
  const stopAt = Date.now() + 3 * timeoutMs;
  let remaining = order;
  while (remaining.length > 0) {
    const input: WorkerInput = {
      ...(built.bundle ? { bundle: built.bundle } : { files: built.files ?? [] }),
      order: remaining,
      mode,
    };
    const outcome = await nextWorker().run(input, timeoutMs);
    if (outcome.bundleError) return undefined;
    const notStarted = remaining.filter((i) => (outcome.ends[i]?.status ?? 'not-started') === 'not-started');
    if (notStarted.length === remaining.length && built.bundle) return undefined;
    for (const i of remaining) {
      const end = outcome.ends[i];
      if (end && end.status !== 'not-started') ends.set(i, end);
    }
    if (notStarted.length === remaining.length || Date.now() >= stopAt) {
      for (const i of notStarted) ends.set(i, { status: 'not-started' });
      break;
    }
    remaining = notStarted;
  }
  return ends;
}

/** Builds and runs `files` in a worker; calls `use` while the built files still exist. */
async function loadFiles<T>(
  files: string[],
  root: string,
  mode: WorkerMode,
  options: ImportOptions,
  use: (results: (FileResult<JobExport | undefined> | undefined)[], built: Built) => Promise<T>,
): Promise<T> {
  const timeoutMs = loadTimeoutMs(options.timeoutMs);
  const rel = files.map((f) => posix(relative(root, f)));
  const dir = mkdtempSync(join(tmpdir(), 'berth-load-'));
  // Job files in one bundle get berth's few lines they use bundled in. Built one by one (the fallback),
  // bundling berth into each build would cost more than importing it once; subscribers import it whole
  // (their handlers run here): then the worker loads it while esbuild builds. The first worker starts now;
  // later rounds start their own.
  const strategy = options.strategy ?? 'bundle';
  const entry = berthEntry(root);
  const inline = mode === 'jobs' && strategy === 'bundle' && entry !== undefined;
  const bundleBase: BuildOptions =
    inline && entry ? { ...BASE, plugins: [inlineBerth(dirname(entry)), ...(BASE.plugins ?? [])] } : BASE;
  const preload = !inline && entry ? [pathToFileURL(entry).href] : [];
  let early: LoadWorker | undefined = new LoadWorker(preload);
  const nextWorker = (): LoadWorker => {
    const worker = early ?? new LoadWorker(preload);
    early = undefined;
    return worker;
  };
  try {
    const attempt = async (built: Built): Promise<T | undefined> => {
      const results: (FileResult<JobExport | undefined> | undefined)[] = files.map(() => undefined);
      for (const [i, failure] of built.failures) results[i] = { ok: false, failure };
      const cycles = findImportCycles(built.graphs, rel);
      rel.forEach((file, i) => {
        const cycle = cycles.get(file);
        if (cycle && !results[i]) results[i] = { ok: false, failure: cycleFailure(cycle) };
      });
      const order = files.map((_f, i) => i).filter((i) => !results[i]);
      const ends = await runBuilt(built, order, mode, timeoutMs, nextWorker);
      if (!ends) return undefined;
      for (const [i, end] of ends) {
        const failure = failureOf(end, timeoutMs, built.graphs, rel[i] as string);
        results[i] = failure
          ? { ok: false, failure }
          : { ok: true, value: end.status === 'loaded' ? end.value : undefined };
      }
      return use(results, built);
    };
    if (strategy === 'bundle') {
      const bundled = await buildBundle(files, root, dir, bundleBase);
      const done = bundled && (await attempt(bundled));
      if (done !== undefined) return done;
    }
    const each = await buildEach(files, root, dir, BASE);
    const done = await attempt(each);
    if (done === undefined) throw new Error('berth could not load the project files'); // per file never reports a bundle error
    return done;
  } finally {
    early?.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Loads job files (absolute paths) in a worker thread and returns, per file in order, its default export as
 * data (`JobExport`), or why it did not load. The main thread never runs a job file.
 */
export async function loadJobExports(
  files: string[],
  root: string,
  options: ImportOptions = {},
): Promise<FileResult<JobExport>[]> {
  if (files.length === 0) return [];
  return loadFiles(files, root, 'jobs', options, async (results) =>
    results.map((r) =>
      r?.ok === false ? r : { ok: true as const, value: r?.value ?? ({ kind: 'no-default' } as const) },
    ),
  );
}

/**
 * Imports `files` (absolute paths) into this process and returns, per file in order, its module or why it
 * did not load. The files first run in a worker thread with the time limit, and only those that loaded there
 * are imported here: a file that exits, hangs or loops is reported without reaching this thread.
 */
export async function importProjectFiles(
  files: string[],
  root: string,
  options: ImportOptions = {},
): Promise<FileResult<unknown>[]> {
  if (files.length === 0) return [];
  return loadFiles(files, root, 'probe', options, async (results, built) => {
    let bundle: Promise<{ default: (() => Promise<unknown>)[] }> | undefined;
    return Promise.all(
      results.map(async (r, i): Promise<FileResult<unknown>> => {
        if (!r?.ok) return r ?? { ok: false, failure: notLoadedFailure(loadTimeoutMs(options.timeoutMs)) };
        try {
          if (built.bundle) {
            bundle ??= import(built.bundle) as Promise<{ default: (() => Promise<unknown>)[] }>;
            return { ok: true, value: await (await bundle).default[i]?.() };
          }
          return { ok: true, value: await import(built.files?.[i] as string) };
        } catch (error) {
          return {
            ok: false,
            failure: thrownFailure({ message: (error as Error)?.message ?? String(error) }),
          };
        }
      }),
    );
  });
}
