/**
 * What every Node bundle berth makes shares, the Lambdas' (compiler/bundle.ts) and the task images'
 * (image/bundle.ts): ESM for Node 22, minified, with a `require` for bundled CommonJS dependencies.
 */

/** Lets bundled CommonJS dependencies `require()` Node built-ins from an ESM bundle. */
export const REQUIRE_BANNER = [
  "import { createRequire as __berthCreateRequire } from 'node:module';",
  'const require = __berthCreateRequire(import.meta.url);',
].join('\n');

/** esbuild's settings for an ESM bundle that runs on Node 22. */
export const NODE_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  // ES module builds of dependencies (the SDK's among them): tree-shaken, unlike the CommonJS ones esbuild
  // picks by default for node; CommonJS ones still work through REQUIRE_BANNER.
  mainFields: ['module', 'main'],
  minify: true,
  legalComments: 'none',
} as const;
