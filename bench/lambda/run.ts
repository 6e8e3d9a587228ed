/**
 * Lambda benchmark: for each berth Lambda of the example service (bundled the way `berth synth` and
 * `serverless package` bundle them), its zip size, the CPU its cold import costs and the peak memory of the
 * process, next to an anchor: a bundle that only does
 * `import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs'; new ECSClient({})`, built with the same
 * esbuild settings. Goals (issue 12): cold import CPU ≤ 1.0× the anchor, zip ≤ 250 KB, peak memory ≤ the
 * anchor's.
 *
 *   node --import tsx bench/lambda/run.ts [--samples 9] [--source-maps] [--keep]
 *
 * Each sample is a fresh `node` child process (as a Lambda cold start is a fresh runtime) that imports the
 * unzipped `.mjs` and reports `process.cpuUsage()` (user + system) across the import and its peak RSS
 * (`process.resourceUsage().maxRSS`, which includes Node's own start-up, the same for every row). Samples of
 * all rows are interleaved so machine load hits them alike; the median is printed. `--source-maps` builds
 * with `custom.berth.sourceMaps: true` and starts the children with `--enable-source-maps`, as the Lambdas
 * then run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { LAMBDA_BUILD_OPTIONS, REQUIRE_BANNER } from '../../src/compiler/bundle.js';
import { buildService } from '../../src/compiler/index.js';
import { createZip, readZip } from '../../src/compiler/zip.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string) => process.argv.indexOf(name);
const SAMPLES = arg('--samples') > 0 ? Number(process.argv[arg('--samples') + 1]) : 9;
const SOURCE_MAPS = arg('--source-maps') > 0;
const KEEP = arg('--keep') > 0;
const ZIP_GOAL = 250 * 1000;

export const ANCHOR_SOURCE = [
  "import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';",
  'export const client = new ECSClient({});',
  'export const command = RunTaskCommand;',
].join('\n');

interface Row {
  name: string;
  /** The unzipped module. */
  file: string;
  zipBytes: number;
  mapBytes: number;
}

/** The child: imports the module and prints the CPU (µs) the import cost and the process's peak RSS (KiB). */
const CHILD = `
const before = process.cpuUsage();
await import(process.argv[1]);
const cpu = process.cpuUsage(before);
process.stdout.write(JSON.stringify({ cpuUs: cpu.user + cpu.system, maxRssKb: process.resourceUsage().maxRSS }));
`;

function unpack(zipPath: string, dir: string, name: string): Omit<Row, 'name'> {
  const zip = readFileSync(zipPath);
  const entries = readZip(zip);
  const mod = entries.find((e) => e.name.endsWith('.mjs') && !e.name.includes('/'));
  if (!mod) throw new Error(`${zipPath}: no .mjs inside`);
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  for (const e of entries) {
    mkdirSync(dirname(join(folder, e.name)), { recursive: true });
    writeFileSync(join(folder, e.name), e.data);
  }
  return {
    file: join(folder, mod.name),
    zipBytes: zip.length,
    mapBytes: entries.filter((e) => e.name.endsWith('.map')).reduce((n, e) => n + e.data.length, 0),
  };
}

async function anchor(dir: string): Promise<Row> {
  const result = await build({
    ...LAMBDA_BUILD_OPTIONS,
    mainFields: [...LAMBDA_BUILD_OPTIONS.mainFields],
    stdin: { contents: ANCHOR_SOURCE, resolveDir: ROOT, sourcefile: 'anchor.ts', loader: 'ts' },
    outfile: join(dir, 'build', 'anchor.mjs'),
    sourcemap: SOURCE_MAPS ? 'linked' : false,
    sourcesContent: false,
    banner: { js: REQUIRE_BANNER },
    absWorkingDir: ROOT,
  });
  const zipPath = join(dir, 'anchor.zip');
  writeFileSync(
    zipPath,
    createZip(
      result.outputFiles.map((f) => ({
        name: f.path.endsWith('.map') ? 'anchor.mjs.map' : 'anchor.mjs',
        data: Buffer.from(f.contents),
      })),
    ),
  );
  return { name: 'anchor (ECS client only)', ...unpack(zipPath, join(dir, 'unzipped'), 'r0') };
}

function sample(file: string): { cpuUs: number; maxRssKb: number } {
  const out = execFileSync(
    process.execPath,
    [
      // Lambda runs Node 22; on older Node the SDK warns once per process, which is not what we measure.
      '--no-warnings',
      ...(SOURCE_MAPS ? ['--enable-source-maps'] : []),
      '--input-type=module',
      '-e',
      CHILD,
      pathToFileURL(file).href,
    ],
    // A Lambda's environment, enough for the SDK to build clients without looking for config files.
    {
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'bench' },
      encoding: 'utf8',
    },
  );
  return JSON.parse(out) as { cpuUs: number; maxRssKb: number };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-lambda-'));
try {
  const { bundles } = await buildService({
    serviceDir: ROOT,
    service: 'berth-example',
    stage: 'dev',
    config: { sourceMaps: SOURCE_MAPS },
    outDir: join(dir, 'assets'),
    cache: false,
  });
  const rows: Row[] = [await anchor(dir)];
  // Every row in a folder of the same name length: peak RSS moves in steps of a few MiB with the bytes a
  // process allocates, module URLs included.
  for (const [i, b] of bundles.entries())
    rows.push({ name: b.kind, ...unpack(b.zipPath, join(dir, 'unzipped'), `r${i + 1}`) });

  const samples = new Map(rows.map((r) => [r.name, [] as { cpuUs: number; maxRssKb: number }[]]));
  for (const r of rows) sample(r.file); // warm the file cache: disk reads are not what we compare
  for (let i = 0; i < SAMPLES; i++) for (const r of rows) samples.get(r.name)!.push(sample(r.file));

  const results = rows.map((r) => ({
    ...r,
    cpuMs: median(samples.get(r.name)!.map((s) => s.cpuUs)) / 1000,
    rssMb: median(samples.get(r.name)!.map((s) => s.maxRssKb)) / 1024,
  }));
  const base = results[0]!;
  const table: string[][] = [
    [
      'Lambda',
      'zip KB',
      'of which map',
      'cold import CPU ms',
      '× anchor',
      'peak RSS MiB',
      '× anchor',
      'goals',
    ],
  ];
  for (const r of results) {
    const cpuX = r.cpuMs / base.cpuMs;
    const rssX = r.rssMb / base.rssMb;
    const goals =
      r === base
        ? ''
        : [
            r.zipBytes <= ZIP_GOAL ? 'zip ok' : 'ZIP > 250 KB',
            cpuX <= 1.0 ? 'cpu ok' : 'CPU > 1.0×',
            rssX <= 1.0 ? 'rss ok' : 'RSS > anchor',
          ].join(', ');
    table.push([
      r.name,
      (r.zipBytes / 1000).toFixed(0),
      r.mapBytes ? `${(r.mapBytes / 1000).toFixed(0)} KB raw` : '-',
      r.cpuMs.toFixed(1),
      `${cpuX.toFixed(2)}×`,
      r.rssMb.toFixed(1),
      `${rssX.toFixed(2)}×`,
      goals,
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
  for (const t of table)
    console.log(t.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  console.log(
    `\nmedian of ${SAMPLES} fresh node processes per row (${process.version}, rows interleaved); source maps ${SOURCE_MAPS ? 'on (--enable-source-maps)' : 'off (the default)'}; the subscriber row is the example's subscribers/ file.`,
  );
} finally {
  if (KEEP) console.log(`bundles kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
