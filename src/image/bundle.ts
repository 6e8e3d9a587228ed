/**
 * Bundles a task entry into one ESM file for the image: esbuild, Node 22, `berth/task` inlined from the berth
 * tree this code runs from (so the image never needs node_modules), the `createRequire` banner for CommonJS
 * dependencies that `require()` Node built-ins, minified, no source map, no comments: same sources → same
 * bytes.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { NODE_BUNDLE_OPTIONS, REQUIRE_BANNER } from '../compiler/nodeBundle.js';
import { ImageBuildError } from './types.js';

/** berth's module folder (`src/` in the repository, `dist/` in the package) and its module extension. */
const BERTH_ROOT = fileURLToPath(new URL('../', import.meta.url));
const BERTH_MODULE_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

export interface BundledEntry {
  code: Buffer;
  ms: number;
}

export async function bundleTaskEntry(
  projectDir: string,
  entry: string,
  field = 'task.build.entry',
): Promise<BundledEntry> {
  const file = resolve(projectDir, entry);
  if (!existsSync(file))
    throw new ImageBuildError(
      `${field}: ${entry} does not exist (looked for ${file}) — point it at the task's source file`,
    );
  const started = performance.now();
  try {
    const result = await build({
      entryPoints: [file],
      ...NODE_BUNDLE_OPTIONS,
      mainFields: [...NODE_BUNDLE_OPTIONS.mainFields],
      charset: 'utf8',
      banner: { js: REQUIRE_BANNER },
      alias: { 'berth/task': join(BERTH_ROOT, `task/index${BERTH_MODULE_EXT}`) },
      write: false,
      logLevel: 'silent',
      absWorkingDir: resolve(projectDir),
      outfile: 'index.mjs',
    });
    const out = result.outputFiles[0];
    if (!out) throw new ImageBuildError(`${field}: esbuild wrote no output for ${entry}`);
    return { code: Buffer.from(out.contents), ms: performance.now() - started };
  } catch (error) {
    if (error instanceof ImageBuildError) throw error;
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number } }[] })
      .errors;
    const detail = errors?.length
      ? errors
          .map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`)
          .join('; ')
      : (error as Error).message;
    throw new ImageBuildError(`${field}: bundling ${entry} failed — ${detail}`);
  }
}
