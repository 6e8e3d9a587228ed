/**
 * Bundles each subscriber Lambda with esbuild, like the berth handlers (ESM, Node 22, minified, linked source
 * map, the `createRequire` banner for CommonJS dependencies): the entry imports the user's file and hands it
 * to `createSubscriberHandler` (or `createTaskStoppedHandler` for a raw subscriber). The service directory is
 * the working directory, so `import … from 'berth'` and the service's own dependencies resolve as they do
 * under `berth dev`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { BundledFunction } from './bundle.js';
import type { FunctionSpec } from './functions.js';
import { createZip } from './zip.js';

export interface SubscriberBundleOptions {
  /** The service directory holding `subscribers/`. */
  serviceDir: string;
  /** berth's package root (for `src/subscriber/index.ts`). */
  berthRoot: string;
  outDir: string;
  /** Subscriber specs (`spec.subscriber` set); others are ignored. */
  functions: readonly FunctionSpec[];
}

const REQUIRE_BANNER = [
  "import { createRequire as __berthCreateRequire } from 'node:module';",
  'const require = __berthCreateRequire(import.meta.url);',
].join('\n');

/** The generated entry of one subscriber Lambda. */
export function subscriberEntry(spec: FunctionSpec, serviceDir: string, berthRoot: string): string {
  if (!spec.subscriber) throw new Error(`${spec.key} is not a subscriber`);
  const factory = spec.subscriber.raw ? 'createTaskStoppedHandler' : 'createSubscriberHandler';
  return [
    `import subscriber from ${JSON.stringify(join(serviceDir, spec.subscriber.file))};`,
    `import { ${factory} } from ${JSON.stringify(join(berthRoot, 'src/subscriber/index.ts'))};`,
    `export const handler = ${factory}(subscriber);`,
  ].join('\n');
}

export async function bundleSubscribers(options: SubscriberBundleOptions): Promise<BundledFunction[]> {
  const specs = options.functions.filter((f) => f.subscriber);
  if (!specs.length) return [];
  mkdirSync(options.outDir, { recursive: true });
  return Promise.all(
    specs.map(async (fn) => {
      const result = await build({
        stdin: {
          contents: subscriberEntry(fn, options.serviceDir, options.berthRoot),
          loader: 'ts',
          resolveDir: options.serviceDir,
          sourcefile: `${fn.kind}.entry.ts`,
        },
        outfile: join(options.outDir, 'build', fn.kind, `${fn.kind}.mjs`),
        bundle: true,
        platform: 'node',
        target: 'node22',
        format: 'esm',
        minify: true,
        sourcemap: 'linked',
        sourcesContent: false,
        legalComments: 'none',
        banner: { js: REQUIRE_BANNER },
        write: false,
        logLevel: 'silent',
        absWorkingDir: options.serviceDir,
      });
      const files = result.outputFiles.map((f) => ({
        name: f.path.endsWith('.map') ? `${fn.kind}.mjs.map` : `${fn.kind}.mjs`,
        data: Buffer.from(f.contents),
      }));
      const zip = createZip(files);
      const sha256 = createHash('sha256').update(zip).digest('hex');
      const fileName = `${fn.kind}-${sha256.slice(0, 12)}.zip`;
      const zipPath = join(options.outDir, fileName);
      writeFileSync(zipPath, zip);
      return { kind: fn.kind, zipPath, fileName, sha256, bytes: zip.length, fromSource: true };
    }),
  );
}
