/**
 * The console's App Runner image: berth's console entry (src/console/appRunner.ts) bundled with esbuild into
 * /app/index.mjs, with the stage's manifest (its jobs, for next fire times, queues and redrive) as a banner,
 * the dashboard's assets beside it in /app/assets (the dashboard reads them relative to its module), on the
 * same Node base and through the same daemonless builder as the `task.build` jobs (src/image). App Runner
 * runs x86_64 images only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { CONSOLE_IMAGE_NAME } from '../compiler/appRunner.js';
import { manifestPrelude } from '../compiler/bundle.js';
import { NODE_BUNDLE_OPTIONS, REQUIRE_BANNER } from '../compiler/nodeBundle.js';
import { buildNodeImage } from '../image/build.js';
import type { BuildProgress, BuildResult, RegistryTarget } from '../image/types.js';
import { ImageBuildError } from '../image/types.js';
import type { BerthManifest } from '../runtime/aws/manifest.js';

/** berth's module folder (`src/` in the repository, `dist/` in the package) and its module extension. */
const BERTH_ROOT = fileURLToPath(new URL('../', import.meta.url));
const BERTH_MODULE_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** The console entry this berth ships. */
export function consoleEntry(): string {
  return join(BERTH_ROOT, `console/appRunner${BERTH_MODULE_EXT}`);
}

/** The dashboard's static files, as `assets/<name>` app files. */
export function dashboardAssets(): { path: string; data: Buffer }[] {
  const dir = join(BERTH_ROOT, 'dashboard/assets');
  return readdirSync(dir)
    .filter((f) => /\.(js|css|svg|png)$/.test(f))
    .sort()
    .map((f) => ({ path: `assets/${f}`, data: readFileSync(join(dir, f)) }));
}

/**
 * The image has no job files (the jobs come from the manifest), so the job-file loader, and esbuild with it,
 * stays out of the bundle: a stub that says so takes its place.
 */
const noJobFileLoader: Plugin = {
  name: 'berth-console-no-job-files',
  setup(b) {
    b.onResolve({ filter: /[\\/]loader[\\/]loadJobs\.(js|ts)$|^\.\.\/loader\/loadJobs\.js$/ }, (args) => ({
      path: args.path,
      namespace: 'berth-console-stub',
    }));
    b.onLoad({ filter: /.*/, namespace: 'berth-console-stub' }, () => ({
      contents:
        "export async function loadJobsOrThrow() { throw new Error('the console image has no job files: its jobs come from the bundled manifest'); }",
      loader: 'js',
    }));
  },
};

/** The console entry bundled with the manifest: one ESM file for Node 22, no node_modules needed. */
export async function bundleConsole(manifest: BerthManifest): Promise<Buffer> {
  const entry = consoleEntry();
  if (!existsSync(entry))
    throw new ImageBuildError(
      `console image: ${entry} is missing from the berth package — reinstall berth (console.appRunner needs it)`,
    );
  const result = await build({
    entryPoints: [entry],
    ...NODE_BUNDLE_OPTIONS,
    mainFields: [...NODE_BUNDLE_OPTIONS.mainFields],
    charset: 'utf8',
    banner: { js: `${REQUIRE_BANNER}\n${manifestPrelude(manifest)}` },
    write: false,
    logLevel: 'silent',
    outfile: 'index.mjs',
    plugins: [noJobFileLoader],
  });
  const out = result.outputFiles[0];
  if (!out) throw new ImageBuildError('console image: esbuild wrote no output');
  return Buffer.from(out.contents);
}

export interface BuildConsoleImageOptions {
  manifest: BerthManifest;
  /** Where to push (the images stack's console repository, or a local registry in tests). */
  target: RegistryTarget;
  /** Base image (default: berth's Node base). */
  base?: string;
  /** Scratch folder for the builder's base-user cache (`.berth/images`). @default process.cwd() */
  projectDir?: string;
  onProgress?: (event: BuildProgress) => void;
}

/** Builds and pushes the console image; the result is pinned by digest (`repo@sha256:…`). */
export async function buildConsoleImage(options: BuildConsoleImageOptions): Promise<BuildResult> {
  const code = await bundleConsole(options.manifest);
  return buildNodeImage({
    projectDir: options.projectDir ?? process.cwd(),
    jobName: CONSOLE_IMAGE_NAME,
    entry: 'berth/console/appRunner',
    code,
    files: dashboardAssets(),
    architecture: 'x86_64',
    target: options.target,
    ...(options.base ? { base: options.base } : {}),
    env: { NODE_ENV: 'production' },
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}
