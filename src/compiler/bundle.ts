/**
 * Bundles the berth Lambdas with esbuild and zips them. Format: ESM (`.mjs`), because the handlers are ESM
 * like the rest of berth and may use top-level await for set-up; a `createRequire` banner covers the few
 * CommonJS dependencies that `require()` Node built-ins. The manifest rides in the same banner as
 * `globalThis.__BERTH_MANIFEST__`, so handlers never read job files at run time.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { BerthManifest } from '../runtime/aws/manifest.js';
import type { FunctionSpec } from './functions.js';
import { createZip } from './zip.js';

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
}

/** Lets bundled CommonJS dependencies `require()` Node built-ins from an ESM bundle. */
export const REQUIRE_BANNER = [
  "import { createRequire as __berthCreateRequire } from 'node:module';",
  'const require = __berthCreateRequire(import.meta.url);',
].join('\n');

export function manifestBanner(manifest: BerthManifest): string {
  return `${REQUIRE_BANNER}\nglobalThis.__BERTH_MANIFEST__ = ${JSON.stringify(manifest)};`;
}

function stub(kind: string): string {
  return `export const handler = async () => { throw new Error('berth: handlers/${kind}.ts was missing from the berth package when this stack was packaged — add it and package again'); };`;
}

export interface LambdaBundleInput {
  kind: FunctionSpec['kind'];
  /** The entry file, or generated source bundled as if it lived in `resolveDir`. */
  source: { entryPoint: string } | { stdin: { contents: string; resolveDir: string; sourcefile?: string } };
  /** Working directory of esbuild: where the bundle's dependencies resolve from. */
  workingDir: string;
  outDir: string;
  banner: string;
}

/**
 * Bundles one Lambda (ESM, Node 22, minified, linked source map without sources) and writes it to `outDir` as
 * `<kind>-<sha256 12>.zip` holding `<kind>.mjs` and its map.
 */
export async function bundleLambda(input: LambdaBundleInput): Promise<Omit<BundledFunction, 'fromSource'>> {
  const { kind, source, outDir } = input;
  const result = await build({
    ...('entryPoint' in source
      ? { entryPoints: [source.entryPoint] }
      : { stdin: { ...source.stdin, loader: 'ts' as const } }),
    outfile: join(outDir, 'build', kind, `${kind}.mjs`),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    banner: { js: input.banner },
    write: false,
    logLevel: 'silent',
    absWorkingDir: input.workingDir,
  });
  const files = result.outputFiles.map((f) => ({
    name: f.path.endsWith('.map') ? `${kind}.mjs.map` : `${kind}.mjs`,
    data: Buffer.from(f.contents),
  }));
  const zip = createZip(files);
  const sha256 = createHash('sha256').update(zip).digest('hex');
  const fileName = `${kind}-${sha256.slice(0, 12)}.zip`;
  const zipPath = join(outDir, fileName);
  writeFileSync(zipPath, zip);
  return { kind, zipPath, fileName, sha256, bytes: zip.length };
}

export async function bundleFunctions(options: BundleOptions): Promise<BundledFunction[]> {
  mkdirSync(options.outDir, { recursive: true });
  const banner = manifestBanner(options.manifest);
  return Promise.all(
    options.functions.map(async (fn) => {
      const entry = join(options.root, `${fn.entry}${options.moduleExt}`);
      const fromSource = existsSync(entry);
      const bundled = await bundleLambda({
        kind: fn.kind,
        source: fromSource
          ? { entryPoint: entry }
          : { stdin: { contents: stub(fn.kind), resolveDir: options.root } },
        workingDir: options.root,
        outDir: options.outDir,
        banner,
      });
      return { ...bundled, fromSource };
    }),
  );
}
