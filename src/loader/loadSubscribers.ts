/**
 * Loads the project's `subscribers/` files for the compiler and `berth dev`. Kept apart from
 * `src/subscriber/index.ts`, which is bundled into every subscriber Lambda and must not pull in esbuild.
 */
import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import {
  isSubscriber,
  isTaskStoppedSubscriber,
  type LoadedSubscriber,
  SUBSCRIBERS_DIR,
  SubscriberError,
} from '../subscriber/index.js';
import { permissionProblems } from '../subscriber/permissions.js';
import { type ImportOptions, importProjectFiles } from './importFiles.js';

/**
 * Loads `subscribers/*.{ts,mts,js,mjs}` under `root` (bundled with esbuild, like jobs, whatever the project's
 * `"type"`). Every file must default-export `defineSubscriber(...)`; names must be unique. The files run first
 * in a worker thread with the load time limit (a file that exits, hangs or loops is named, never run here).
 */
export async function loadSubscribers(
  root: string,
  options: ImportOptions = {},
): Promise<LoadedSubscriber[]> {
  const dir = join(root, SUBSCRIBERS_DIR);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const files = entries.filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !f.endsWith('.d.ts')).sort();
  const loaded: LoadedSubscriber[] = [];
  const seen = new Map<string, string>();
  const modules = await importProjectFiles(
    files.map((f) => join(dir, f)),
    root,
    options,
  );
  for (const [i, f] of files.entries()) {
    const file = `${SUBSCRIBERS_DIR}/${f}`;
    const result = modules[i]!;
    if (!result.ok)
      throw new SubscriberError(`${file}: (file): ${result.failure.problem} — ${result.failure.fix}`);
    const mod = result.value as { default?: unknown };
    if (!isSubscriber(mod.default) && !isTaskStoppedSubscriber(mod.default))
      throw new SubscriberError(
        `${file}: (file): does not default-export defineSubscriber(...) or defineTaskStoppedSubscriber(...) — add export default defineSubscriber({ on: [...] }, handler)`,
      );
    const problems = permissionProblems(mod.default.options.permissions);
    if (problems.length)
      throw new SubscriberError(problems.map((problem) => `${file}: ${problem}`).join('\n'));
    const name = mod.default.options.name ?? basename(f, extname(f));
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name))
      throw new SubscriberError(
        `${file}: name: "${name}" is not a valid subscriber name — use lowercase letters, digits and '-', at most 32`,
      );
    const other = seen.get(name);
    if (other)
      throw new SubscriberError(
        `${file}: name: "${name}" is also used by ${other} — give one of them another name`,
      );
    seen.set(name, file);
    loaded.push({ file, name, subscriber: mod.default });
  }
  return loaded;
}
