/**
 * The static import graph of a module, read from esbuild's metafile: what Node loads when the module is
 * imported (dynamic `import()` edges are left out: they load only when called). Packages are kept as leaves
 * (`external`), so the graph names every package the module pulls in at load and the chain that pulls it.
 */
import { relative } from 'node:path';
import { build } from 'esbuild';

export interface ImportGraph {
  /** Every module reached at load: project files (relative paths) and package specifiers. */
  modules: string[];
  /** The chain of importers from the entry to `module` (entry first), or undefined when it is not reached. */
  chain(module: string): string[] | undefined;
  /** Packages (bare specifiers, without subpaths) reached at load, sorted. */
  packages(): string[];
}

export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

export async function staticImportGraph(entry: string, cwd: string): Promise<ImportGraph> {
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: cwd,
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    packages: 'external',
    logLevel: 'silent',
  });
  const inputs = result.metafile.inputs;
  const start = relative(cwd, entry);
  const parent = new Map<string, string | null>([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const edge of inputs[file]?.imports ?? []) {
      if (edge.kind === 'dynamic-import' || parent.has(edge.path)) continue;
      parent.set(edge.path, file);
      if (!edge.external) queue.push(edge.path);
    }
  }
  return {
    modules: [...parent.keys()],
    chain(module) {
      if (!parent.has(module)) return undefined;
      const out: string[] = [];
      for (let at: string | null | undefined = module; at; at = parent.get(at)) out.unshift(at);
      return out;
    },
    packages() {
      const names = new Set<string>();
      for (const m of parent.keys())
        if (
          !m.startsWith('.') &&
          !m.startsWith('/') &&
          !m.includes(':') &&
          !m.startsWith('src/') &&
          !m.startsWith('dist/')
        )
          names.add(packageName(m));
      return [...names].sort();
    },
  };
}
