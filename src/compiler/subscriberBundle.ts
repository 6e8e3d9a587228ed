/**
 * Bundles each subscriber Lambda with esbuild, like the berth handlers (ESM, Node 22, minified, a source map
 * only with `custom.berth.sourceMaps`, the `createRequire` banner for CommonJS dependencies): the entry
 * imports the user's file and hands it to `createSubscriberHandler` (or `createTaskStoppedHandler` for a raw
 * subscriber). The service directory is
 * the working directory, so `import … from 'berth'` and the service's own dependencies resolve as they do
 * under `berth dev`.
 */
import { join } from 'node:path';
import { type BundledFunction, bundleLambdas, REQUIRE_BANNER } from './bundle.js';
import type { FunctionSpec } from './functions.js';

export interface SubscriberBundleOptions {
  /** The service directory holding `subscribers/`. */
  serviceDir: string;
  /** berth's module folder, `src/` or `dist/` (for `subscriber/index`). */
  berthRoot: string;
  /** `.ts` or `.js`: the extension of berth's modules under `berthRoot`. */
  moduleExt: string;
  outDir: string;
  /** Subscriber specs (`spec.subscriber` set); others are ignored. */
  functions: readonly FunctionSpec[];
  /** Ship source maps (`custom.berth.sourceMaps`). @default false */
  sourceMaps?: boolean;
  /** Build cache folder (bundleCache.ts); none: always build. */
  cacheDir?: string;
}

/** The generated entry of one subscriber Lambda. */
export function subscriberEntry(
  spec: FunctionSpec,
  serviceDir: string,
  berthRoot: string,
  moduleExt = '.ts',
): string {
  if (!spec.subscriber) throw new Error(`${spec.key} is not a subscriber`);
  const factory = spec.subscriber.raw ? 'createTaskStoppedHandler' : 'createSubscriberHandler';
  return [
    `import subscriber from ${JSON.stringify(join(serviceDir, spec.subscriber.file))};`,
    `import { ${factory} } from ${JSON.stringify(join(berthRoot, `subscriber/index${moduleExt}`))};`,
    `export const handler = ${factory}(subscriber);`,
  ].join('\n');
}

export async function bundleSubscribers(options: SubscriberBundleOptions): Promise<BundledFunction[]> {
  const specs = options.functions.filter((f) => f.subscriber);
  // One esbuild call for all of them (one entry point each, no shared chunks).
  const bundled = await bundleLambdas({
    entries: specs.map((fn) => ({
      kind: fn.kind,
      contents: subscriberEntry(fn, options.serviceDir, options.berthRoot, options.moduleExt),
      resolveDir: options.serviceDir,
      sourcefile: `${fn.kind}.entry.ts`,
    })),
    workingDir: options.serviceDir,
    outDir: options.outDir,
    banner: REQUIRE_BANNER,
    sourceMaps: options.sourceMaps,
    cacheDir: options.cacheDir,
  });
  return bundled.map((b) => ({ ...b, fromSource: true }));
}
