/**
 * Imports a project's own files (job files, subscribers) whatever the project's layout: TypeScript or
 * JavaScript (`.ts`, `.mts`, `.js`, `.mjs`), ESM or CommonJS syntax, in a package whose `"type"` is
 * `module`, `commonjs` or absent. esbuild bundles the files into one ESM module in a temporary folder, so the
 * project's `"type"` never decides how a file is read and no loader hook (tsx) is registered in the process.
 * Every load bundles afresh, so `berth dev` sees a file edited since the last load.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Loader, type Plugin } from 'esbuild';

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

/** Lets a bundled `require()` (CommonJS job files, their CommonJS helpers) work in the ESM bundle. */
const REQUIRE_BANNER =
  "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);";

const BASE: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  write: false,
  logLevel: 'silent',
  banner: { js: REQUIRE_BANNER },
  plugins: [pinPackages, ownImportMeta],
};

async function importText(text: string): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-load-'));
  try {
    const file = join(dir, 'bundle.mjs');
    writeFileSync(file, text);
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * All files in one bundle: each file is a lazily initialised module behind its own `import()`, so a file that
 * throws still fails alone, with its own error. `undefined` when the bundle cannot be built (a syntax error
 * somewhere) or a package the files import throws while loading: the caller then imports file by file, which
 * puts each error on its own file.
 */
async function importBundled(
  files: string[],
  root: string,
): Promise<PromiseSettledResult<unknown>[] | undefined> {
  let text: string;
  try {
    const result = await build({
      ...BASE,
      stdin: {
        contents: `export default [\n${files.map((f) => `  () => import(${JSON.stringify(f)}),`).join('\n')}\n];\n`,
        resolveDir: root,
        loader: 'js',
        sourcefile: 'berth-files.js',
      },
    });
    text = result.outputFiles?.[0]?.text ?? '';
  } catch {
    return undefined;
  }
  try {
    const mod = (await importText(text)) as { default: (() => Promise<unknown>)[] };
    return await Promise.allSettled(mod.default.map((load) => load()));
  } catch {
    return undefined;
  }
}

/** Builds esbuild's first error as one line: `problem (file:line:column)`. */
function buildErrorMessage(error: unknown): string {
  const errors = (
    error as { errors?: { text: string; location?: { line: number; column: number } | null }[] }
  ).errors;
  const first = errors?.[0];
  if (!first) return (error as Error)?.message ?? String(error);
  return first.location ? `${first.text} (line ${first.location.line}:${first.location.column})` : first.text;
}

async function importOne(file: string): Promise<unknown> {
  let text: string;
  try {
    const result = await build({ ...BASE, entryPoints: [file] });
    text = result.outputFiles?.[0]?.text ?? '';
  } catch (error) {
    throw new Error(buildErrorMessage(error));
  }
  return importText(text);
}

export type ImportStrategy = 'bundle' | 'per-file';

/**
 * Imports `files` (absolute paths) and returns one settled result per file, in order. `bundle` (the default)
 * builds one esbuild bundle and falls back to `per-file` (one build per file) when that fails.
 */
export async function importProjectFiles(
  files: string[],
  root: string,
  strategy: ImportStrategy = 'bundle',
): Promise<PromiseSettledResult<unknown>[]> {
  if (files.length === 0) return [];
  const bundled = strategy === 'bundle' ? await importBundled(files, root) : undefined;
  return bundled ?? Promise.allSettled(files.map((f) => importOne(f)));
}
