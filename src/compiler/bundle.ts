/**
 * Bundles the berth Lambdas with esbuild and zips them. Format: ESM (`.mjs`), because the handlers are ESM
 * like the rest of berth and may use top-level await for set-up; a `createRequire` banner covers the few
 * CommonJS dependencies that `require()` Node built-ins. The manifest is set as
 * `globalThis.__BERTH_MANIFEST__` by a prelude module each handler imports first, so handlers never read job
 * files at run time.
 *
 * Small and fast to start: the AWS SDK resolves to its ES module builds (`mainFields: module, main`), which
 * esbuild tree-shakes (the CommonJS builds it cannot); no source map unless `custom.berth.sourceMaps` asks for
 * one. Code splitting keeps what a handler loads with `import()` (the S3 and SQS clients of rare paths, the
 * SDK's other credential providers) in chunks read only when needed; each zip carries its entry and every
 * chunk it may load, so it stands alone. Fast to build: the Lambdas sharing a banner are one esbuild call,
 * and a build whose inputs did not change is reused from a cache (bundleCache.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import type { BerthManifest } from '../runtime/aws/manifest.js';
import { cachedBuild } from './bundleCache.js';
import type { FunctionSpec } from './functions.js';
import { NODE_BUNDLE_OPTIONS, REQUIRE_BANNER } from './nodeBundle.js';
import { createZip, ZIP_MODULE } from './zip.js';

export interface BundledFunction {
  kind: FunctionSpec['kind'];
  /** Absolute path of the zip. */
  zipPath: string;
  /** File name, content-hashed: `<kind>-<sha256 12>.zip`. */
  fileName: string;
  sha256: string;
  bytes: number;
  /** False when berth's `handlers/<kind>` module did not exist and a stub that fails loudly was bundled instead. */
  fromSource: boolean;
}

export interface BundleOptions {
  /** berth's module folder (`src/` or `dist/`) holding `handlers/`. */
  root: string;
  /** `.ts` (source) or `.js` (built package): the extension of the handler files under `root`. */
  moduleExt: '.ts' | '.js' | string;
  outDir: string;
  manifest: BerthManifest;
  functions: readonly FunctionSpec[];
  /** Ship a source map beside each bundle (`custom.berth.sourceMaps`). @default false */
  sourceMaps?: boolean;
  /** Folder of the build cache (see bundleCache.ts); none: always build. */
  cacheDir?: string;
}

/** Re-exported for the subscriber bundle and bench/lambda. */
export { REQUIRE_BANNER };

/** Hands the manifest to the handler: run before the handler's modules (see `prelude`). */
export function manifestPrelude(manifest: BerthManifest): string {
  return `globalThis.__BERTH_MANIFEST__ = ${JSON.stringify(manifest)};`;
}

function stub(kind: string): string {
  return `export const handler = async () => { throw new Error('berth: handlers/${kind}.ts was missing from the berth package when this stack was packaged — add it and package again'); };`;
}

/** One Lambda of a bundle call: a file, or generated source bundled as if it lived in `resolveDir`. */
export type LambdaEntry = { kind: FunctionSpec['kind'] } & (
  | { entryPoint: string }
  | { contents: string; resolveDir: string; sourcefile?: string }
);

export interface LambdasBundleInput {
  entries: readonly LambdaEntry[];
  /** Working directory of esbuild: where the bundles' dependencies resolve from. */
  workingDir: string;
  outDir: string;
  /** Code at the top of every output file (entries and chunks). */
  banner: string;
  /** Code each Lambda runs before its entry module is evaluated (once per Lambda, in a shared chunk). */
  prelude?: string;
  sourceMaps?: boolean;
  cacheDir?: string;
}

/** esbuild's settings for every berth Lambda; exported so bench/lambda builds its anchor the same way. */
export const LAMBDA_BUILD_OPTIONS = {
  ...NODE_BUNDLE_OPTIONS,
  outExtension: { '.js': '.mjs' },
  write: false,
  logLevel: 'silent',
} as const;

const VIRTUAL = 'berth-lambda';

/**
 * Each Lambda's entry is a generated module: the prelude first (ES modules evaluate their imports in order),
 * then everything its real entry exports. Generated entries (`contents`) are served as modules too.
 */
function virtualEntries(input: LambdasBundleInput): Plugin {
  const byKind = new Map(input.entries.map((e) => [e.kind as string, e]));
  return {
    name: VIRTUAL,
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${VIRTUAL}:`) }, (args) => ({
        path: args.path.slice(VIRTUAL.length + 1),
        namespace: VIRTUAL,
      }));
      b.onLoad({ filter: /.*/, namespace: VIRTUAL }, (args) => {
        if (args.path === 'prelude') return { contents: input.prelude ?? '', loader: 'js' };
        const [what, kind] = args.path.split('/') as [string, string];
        const entry = byKind.get(kind);
        if (!entry) return undefined;
        if (what === 'source' && 'contents' in entry)
          return { contents: entry.contents, resolveDir: entry.resolveDir, loader: 'ts' };
        const target = 'entryPoint' in entry ? entry.entryPoint : `${VIRTUAL}:source/${kind}`;
        const lines = [
          ...(input.prelude ? [`import '${VIRTUAL}:prelude';`] : []),
          `export * from ${JSON.stringify(target)};`,
        ];
        return { contents: lines.join('\n'), resolveDir: input.workingDir, loader: 'js' };
      });
    },
  };
}

/** The output files one entry loads: itself and, transitively, the chunks it imports (statically or not). */
function closure(outputs: Metafile['outputs'], entry: string): string[] {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path) || !outputs[path]) return;
    seen.add(path);
    for (const i of outputs[path].imports) if (!i.external) visit(i.path);
  };
  visit(entry);
  return [...seen];
}

/**
 * Bundles several Lambdas in one esbuild call (ESM, Node 22, minified; a linked source map without sources
 * when `sourceMaps`) and writes each to `outDir` as `<kind>-<sha256 12>.zip` holding `<kind>.mjs`, the chunks
 * it loads under `chunks/` (and their maps). Code split into chunks: a module only some Lambdas use, or one a
 * Lambda loads with `import()`, is a file of its own, read only when needed; each zip still stands alone.
 */
export async function bundleLambdas(
  input: LambdasBundleInput,
): Promise<Omit<BundledFunction, 'fromSource'>[]> {
  const { entries, outDir } = input;
  if (!entries.length) return [];
  const buildDir = join(outDir, 'build');
  const zips = await cachedBuild(
    input.cacheDir,
    {
      entries,
      banner: input.banner,
      prelude: input.prelude,
      sourceMaps: Boolean(input.sourceMaps),
      workingDir: input.workingDir,
      options: LAMBDA_BUILD_OPTIONS,
    },
    async () => {
      const result = await build({
        ...LAMBDA_BUILD_OPTIONS,
        mainFields: [...LAMBDA_BUILD_OPTIONS.mainFields],
        entryPoints: entries.map((e) => ({ in: `${VIRTUAL}:entry/${e.kind}`, out: e.kind })),
        outdir: buildDir,
        splitting: true,
        chunkNames: 'chunks/[name]-[hash]',
        sourcemap: input.sourceMaps ? 'linked' : false,
        sourcesContent: false,
        banner: { js: input.banner },
        absWorkingDir: input.workingDir,
        metafile: true,
        plugins: [virtualEntries(input)],
      });
      const contents = new Map(result.outputFiles.map((f) => [f.path, Buffer.from(f.contents)]));
      const files = entries.map(({ kind }) => {
        const entryPath = join(buildDir, `${kind}.mjs`);
        const entryKey = Object.keys(result.metafile.outputs).find(
          (k) => resolve(input.workingDir, k) === entryPath,
        );
        if (!entryKey) throw new Error(`berth: esbuild wrote no ${kind}.mjs`);
        const own = closure(result.metafile.outputs, entryKey)
          .map((k) => resolve(input.workingDir, k))
          .flatMap((path) => [path, `${path}.map`])
          .filter((path) => contents.has(path))
          .map((path) => ({ name: relative(buildDir, path), data: contents.get(path)! }));
        return { name: kind, data: createZip(own) };
      });
      const inputs = Object.keys(result.metafile.inputs)
        .filter((path) => !path.startsWith(`${VIRTUAL}:`))
        .map((path) => resolve(input.workingDir, path));
      // This code and the zip writer shape the output too: a berth upgrade never reuses an older build.
      return { files, inputs: [...inputs, fileURLToPath(import.meta.url), ZIP_MODULE] };
    },
  );
  mkdirSync(outDir, { recursive: true });
  return entries.map(({ kind }) => {
    const zip = zips.find((f) => f.name === kind)!.data;
    const sha256 = createHash('sha256').update(zip).digest('hex');
    const fileName = `${kind}-${sha256.slice(0, 12)}.zip`;
    const zipPath = join(outDir, fileName);
    writeFileSync(zipPath, zip);
    return { kind, zipPath, fileName, sha256, bytes: zip.length };
  });
}

export async function bundleFunctions(options: BundleOptions): Promise<BundledFunction[]> {
  const entries = options.functions.map((fn): LambdaEntry & { fromSource: boolean } => {
    const entryPoint = join(options.root, `${fn.entry}${options.moduleExt}`);
    return existsSync(entryPoint)
      ? { kind: fn.kind, entryPoint, fromSource: true }
      : { kind: fn.kind, contents: stub(fn.kind), resolveDir: options.root, fromSource: false };
  });
  const bundled = await bundleLambdas({
    entries,
    workingDir: options.root,
    outDir: options.outDir,
    banner: REQUIRE_BANNER,
    prelude: manifestPrelude(options.manifest),
    sourceMaps: options.sourceMaps,
    cacheDir: options.cacheDir,
  });
  return bundled.map((b, i) => ({ ...b, fromSource: entries[i]!.fromSource }));
}
