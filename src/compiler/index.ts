/**
 * Loads the jobs of a service, compiles them and bundles the Lambdas: what both `berth synth` and the
 * Serverless plugin do before they render their templates.
 */
import { fileURLToPath } from 'node:url';
import type { Job } from '../core/model/job.js';
import { loadJobsOrThrow } from '../loader/loadJobs.js';
import { loadSubscribers } from '../loader/loadSubscribers.js';
import { type BundledFunction, bundleFunctions } from './bundle.js';
import { buildCacheDir } from './bundleCache.js';
import { type CompiledService, compileService, parseConfig } from './compile.js';
import { assertBuildPaths } from './imageChecks.js';
import { bundleSubscribers } from './subscriberBundle.js';

export { type CompiledService, compileService, parseConfig } from './compile.js';
export { synthesizeTemplate } from './synth.js';

/**
 * The folder berth's own modules run from: `src/` (TypeScript, inside this repository and its tests) or
 * `dist/` (the built package). The Lambdas and subscriber entries are bundled from the same tree as the
 * compiler that bundles them, so a published package needs no TypeScript sources.
 */
export const BERTH_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** `.ts` when running from source, `.js` from `dist/`. */
export const BERTH_MODULE_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

export interface BuildOptions {
  /** Service directory (the jobs folder is relative to it). */
  serviceDir: string;
  service: string;
  stage: string;
  config: unknown;
  /** Where the Lambda zips go. */
  outDir: string;
  /** Reuse unchanged Lambda builds from the service's build cache (bundleCache.ts). @default true */
  cache?: boolean;
}

export interface BuiltService {
  compiled: CompiledService;
  /** The jobs the service was compiled from. */
  jobs: Job[];
  bundles: BundledFunction[];
}

export async function buildService(options: BuildOptions): Promise<BuiltService> {
  const config = parseConfig(options.config);
  const jobs = await loadJobsOrThrow({ root: options.serviceDir, jobsDir: config.jobsDir });
  assertBuildPaths(jobs, options.serviceDir);
  const subscribers = await loadSubscribers(options.serviceDir);
  const compiled = compileService({
    jobs,
    config,
    service: options.service,
    stage: options.stage,
    subscribers,
  });
  const sourceMaps = config.sourceMaps;
  const cacheDir = options.cache === false ? undefined : buildCacheDir(options.serviceDir);
  const [own, subs] = await Promise.all([
    bundleFunctions({
      root: BERTH_ROOT,
      moduleExt: BERTH_MODULE_EXT,
      outDir: options.outDir,
      manifest: compiled.manifest,
      functions: compiled.functions.filter((f) => !f.subscriber),
      sourceMaps,
      cacheDir,
    }),
    bundleSubscribers({
      serviceDir: options.serviceDir,
      berthRoot: BERTH_ROOT,
      moduleExt: BERTH_MODULE_EXT,
      outDir: options.outDir,
      functions: compiled.functions,
      sourceMaps,
      cacheDir,
    }),
  ]);
  return { compiled, jobs, bundles: [...own, ...subs] };
}
