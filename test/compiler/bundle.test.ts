/**
 * The real Lambda bundles (bundleFunctions over berth's own handlers): small, without zod, with the chunks
 * each handler loads, source maps only when asked for; and the build cache that `berth synth` and
 * `serverless package` reuse.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type BundledFunction, bundleFunctions } from '../../src/compiler/bundle.js';
import { cachedBuild } from '../../src/compiler/bundleCache.js';
import { compileService } from '../../src/compiler/compile.js';
import { functionEnvironment } from '../../src/compiler/functions.js';
import { BERTH_MODULE_EXT, BERTH_ROOT } from '../../src/compiler/index.js';
import { createZip, readZip } from '../../src/compiler/zip.js';
import { context, job } from './helpers.js';

const DIR = join(process.cwd(), '.tmp', `bundle-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const ZIP_LIMIT = 250_000;

async function bundle(sourceMaps: boolean, outDir: string, cacheDir?: string): Promise<BundledFunction[]> {
  const compiled = compileService({
    jobs: [job({ name: 'thumbnail', trigger: { s3: { bucket: 'uploads', prefix: 'in/' } } })],
    config: { sourceMaps },
    service: 'svc',
    stage: 'dev',
  });
  return bundleFunctions({
    root: BERTH_ROOT,
    moduleExt: BERTH_MODULE_EXT,
    outDir,
    manifest: compiled.manifest,
    functions: compiled.functions,
    sourceMaps,
    ...(cacheDir ? { cacheDir } : {}),
  });
}

function unzip(b: BundledFunction, into: string): { names: string[]; code: string } {
  const entries = readZip(readFileSync(b.zipPath));
  for (const e of entries) {
    mkdirSync(dirname(join(into, e.name)), { recursive: true });
    writeFileSync(join(into, e.name), e.data);
  }
  const code = entries
    .filter((e) => e.name.endsWith('.mjs'))
    .map((e) => e.data.toString('utf8'))
    .join('\n');
  return { names: entries.map((e) => e.name).sort(), code };
}

describe('the berth Lambda bundles', () => {
  let plain: BundledFunction[] = [];

  it('are each at most 250 KB zipped, carry no zod, and import to a handler', async () => {
    plain = await bundle(false, join(DIR, 'plain'));
    expect(plain.map((b) => b.kind)).toEqual(['launcher', 'interceptor', 'sweeper']);
    for (const b of plain) {
      expect(b.fromSource).toBe(true);
      expect(b.bytes, `${b.kind} zip`).toBeLessThanOrEqual(ZIP_LIMIT);
      const { names, code } = unzip(b, join(DIR, 'plain-unzipped', b.kind));
      expect(names).toContain(`${b.kind}.mjs`);
      // zod v4 names its classes in strings (`$constructor("ZodObject", …)`), minified or not.
      expect(code).not.toMatch(/ZodObject|ZodError|\$ZodType/);
      expect(code).toContain('globalThis.__BERTH_MANIFEST__=');
      // No map, and no comment pointing at one.
      expect(names.filter((n) => n.endsWith('.map'))).toEqual([]);
      expect(code).not.toContain('sourceMappingURL');
      const mod = (await import(
        pathToFileURL(join(DIR, 'plain-unzipped', b.kind, `${b.kind}.mjs`)).href
      )) as {
        handler?: unknown;
      };
      expect(typeof mod.handler).toBe('function');
    }
  }, 120_000);

  it('keep the S3 client and the launch queue clients out of what a handler loads at start', () => {
    for (const b of plain) {
      const entries = readZip(readFileSync(b.zipPath));
      const byName = new Map(entries.map((e) => [e.name, e.data.toString('utf8')]));
      // The files the entry loads statically, transitively.
      const loaded = new Set<string>();
      const visit = (name: string) => {
        if (loaded.has(name)) return;
        loaded.add(name);
        const text = byName.get(name) ?? '';
        const base = dirname(name);
        for (const m of text.matchAll(
          /(?:^|[;}\s])(?:import|export)\s*(?:[^'"()]*?from\s*)?["'](\.[^"']+)["']/g,
        ))
          visit(join(base, m[1]!));
      };
      visit(`${b.kind}.mjs`);
      const startup = [...loaded].map((n) => byName.get(n) ?? '').join('\n');
      const lazy = entries
        .filter((e) => !loaded.has(e.name))
        .map((e) => e.data.toString('utf8'))
        .join('\n');
      // Service names the SDK clients carry in their endpoint rules and signing.
      expect(startup, `${b.kind}: S3 at start`).not.toMatch(/AmazonS3/);
      expect(lazy, `${b.kind}: S3 somewhere in the zip`).toMatch(/AmazonS3/);
      expect(startup, `${b.kind}: SQS at start`).not.toMatch(/AmazonSQS/);
      expect(lazy, `${b.kind}: SQS somewhere in the zip`).toMatch(/AmazonSQS/);
    }
  });

  it('ship a map per module and point at it only with sourceMaps', async () => {
    const mapped = await bundle(true, join(DIR, 'mapped'));
    for (const b of mapped) {
      const { names, code } = unzip(b, join(DIR, 'mapped-unzipped', b.kind));
      const modules = names.filter((n) => n.endsWith('.mjs'));
      expect(names.filter((n) => n.endsWith('.map')).sort()).toEqual(modules.map((n) => `${n}.map`).sort());
      expect(code).toContain(`//# sourceMappingURL=${b.kind}.mjs.map`);
    }
    expect(functionEnvironment(context({ sourceMaps: true })).NODE_OPTIONS).toBe('--enable-source-maps');
    expect(functionEnvironment(context()).NODE_OPTIONS).toBeUndefined();
  }, 120_000);

  it('are the same bytes for the same input, built or taken from the build cache', async () => {
    const cacheDir = join(DIR, 'build-cache');
    const built = await bundle(false, join(DIR, 'again'), cacheDir);
    expect(built.map((b) => b.sha256)).toEqual(plain.map((b) => b.sha256));
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    const cached = await bundle(false, join(DIR, 'cached'), cacheDir);
    expect(cached.map((b) => b.fileName)).toEqual(plain.map((b) => b.fileName));
    for (const b of cached) expect(readFileSync(b.zipPath).length).toBe(b.bytes);
  }, 120_000);
});

describe('cachedBuild', () => {
  const cache = join(DIR, 'cache');
  const input = join(DIR, 'input.ts');

  it('builds once, reuses while inputs and key are unchanged, rebuilds when either changes', async () => {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(input, 'export const a = 1;\n');
    const past = new Date(Date.now() - 60_000);
    utimesSync(input, past, past);
    let builds = 0;
    const build = (text: string) => async () => {
      builds++;
      return {
        files: [{ name: 'launcher', data: createZip([{ name: 'launcher.mjs', data: Buffer.from(text) }]) }],
        inputs: [input],
      };
    };
    const first = await cachedBuild(cache, { k: 1 }, build('one'));
    const second = await cachedBuild(cache, { k: 1 }, build('two'));
    expect(builds).toBe(1);
    expect(second[0]!.data.equals(first[0]!.data)).toBe(true);

    await cachedBuild(cache, { k: 2 }, build('three'));
    expect(builds).toBe(2);

    writeFileSync(input, 'export const a = 2;\n');
    utimesSync(input, past, new Date(past.getTime() + 1000));
    const changed = await cachedBuild(cache, { k: 1 }, build('four'));
    expect(builds).toBe(3);
    expect(readZip(changed[0]!.data)[0]!.data.toString()).toBe('four');

    // A cache folder that cannot be read or written only costs the cache.
    expect(await cachedBuild(join(input, 'not-a-dir'), { k: 1 }, build('five'))).toHaveLength(1);
    expect(builds).toBe(4);
  });

  it('does not keep a build whose input changed while it ran', async () => {
    const fresh = join(DIR, 'fresh.ts');
    writeFileSync(fresh, 'export const b = 1;\n'); // mtime now: after the build started
    let builds = 0;
    const build = async () => {
      builds++;
      writeFileSync(fresh, `export const b = ${builds};\n`);
      return { files: [{ name: 'x', data: Buffer.from('x') }], inputs: [fresh] };
    };
    await cachedBuild(cache, { fresh: true }, build);
    await cachedBuild(cache, { fresh: true }, build);
    expect(builds).toBe(2);
  });
});
