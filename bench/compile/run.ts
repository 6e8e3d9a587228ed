/**
 * Compile benchmark.
 *
 * Headline: the whole command a user runs, as a child process, wall time: `berth synth` of the example
 * service and of a project with 100 schedule jobs (load the job files, compile, bundle and zip the Lambdas,
 * write the template), next to a CDK app doing the same end to end in its own node process (`app.synth()`
 * of 100 ScheduledFargateTasks, bench/compile/cdkApp.ts). berth is timed with an empty build cache (every
 * Lambda bundled and zipped) and with a warm one (`.berth/cache`, nothing changed since the last synth).
 *
 * Secondary: the in-process compile step alone (validation, every compile step, the template JSON; no job
 * loading, no bundling) on 10/100/300 generated jobs against aws-cdk-lib synth of the same number of
 * `ScheduledFargateTask` constructs in the same process, with and without CDK's validation.
 *
 *   node --import tsx bench/compile/run.ts [--runs 5]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleFunctions } from '../../src/compiler/bundle.js';
import { compileService } from '../../src/compiler/compile.js';
import type { BerthConfigInput } from '../../src/compiler/config.js';
import { ResourceBudgetError } from '../../src/compiler/errors.js';
import { BERTH_MODULE_EXT, BERTH_ROOT } from '../../src/compiler/index.js';
import { synthesizeTemplate } from '../../src/compiler/synth.js';
import { bundleConsole } from '../../src/console/image.js';
import type { JobInput } from '../../src/core/model/job.js';
import { validateJob } from '../../src/core/model/validate.js';
import { cdkScheduledTasksApp, IMAGE } from './cdkStack.js';

const SIZES = [10, 100, 300];
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
const ASSETS = { launcher: 'l.zip', interceptor: 'i.zip', sweeper: 's.zip' };

function inputs(count: number): JobInput[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `job-${String(i).padStart(3, '0')}`,
    trigger: { schedule: { expression: `cron(${i % 60} 3 * * ? *)`, timezone: 'Europe/Berlin' } },
    task: { image: IMAGE, cpu: 256, memory: 512 },
  }));
}

function berth(count: number): { ms: number; resources: number; perJob: number; overBudget: boolean } {
  const start = performance.now();
  const jobs = inputs(count).map((input, i) => {
    const r = validateJob(input, `jobs/${i}.ts`);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.job;
  });
  const compiled = compileService({ jobs, service: 'bench', stage: 'dev' });
  let overBudget = false;
  let resources: number;
  try {
    const { template } = synthesizeTemplate(compiled, ASSETS);
    JSON.stringify(template, null, 2);
    resources = Object.keys(template.Resources).length;
  } catch (error) {
    if (!(error instanceof ResourceBudgetError)) throw error;
    overBudget = true;
    resources = error.resourceCount;
  }
  const ms = performance.now() - start;
  const perJob = Object.values(compiled.perJob).reduce((a, b) => a + b, 0) / count;
  return { ms, resources, perJob, overBudget };
}

function cdk(count: number, validate: boolean): { ms: number; resources: number; perJob: number } {
  const outdir = mkdtempSync(join(tmpdir(), 'berth-bench-cdk-'));
  try {
    const start = performance.now();
    const assembly = cdkScheduledTasksApp(outdir, count).synth({ skipValidation: !validate });
    const ms = performance.now() - start;
    const template = assembly.getStackByName('Bench').template as {
      Resources: Record<string, { Type: string }>;
    };
    const all = Object.values(template.Resources);
    const shared = all.filter(
      (r) => r.Type === 'AWS::ECS::Cluster' || r.Type === 'AWS::CDK::Metadata',
    ).length;
    return { ms, resources: all.length, perJob: (all.length - shared) / count };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function measure<T extends { ms: number }>(fn: () => T): T {
  fn(); // warm-up: module loading and JIT are not what we compare
  const runs = Array.from({ length: RUNS }, fn);
  const ms = median(runs.map((r) => r.ms));
  return { ...runs[0]!, ms };
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** CPU seconds (user + system) of this process's finished children, from /proc (Linux; 0 elsewhere). */
function childCpuSeconds(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime + cstime, in clock ticks (100 Hz)
  } catch {
    return 0;
  }
}

interface CommandTime {
  wall: number;
  cpu: number;
}

/** Runs a command to completion; throws with its output when it fails. */
function timeCommand(args: string[], cwd: string, env: Record<string, string> = {}): CommandTime {
  const cpu0 = childCpuSeconds();
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  const wall = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`${args.join(' ')} (in ${cwd}) failed:\n${r.stdout}\n${r.stderr}`);
  return { wall, cpu: childCpuSeconds() - cpu0 };
}

function medianTime(runs: CommandTime[]): CommandTime {
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) };
}

/** The CLI as a user runs it: bin/berth.js once it runs the built package (dist/), else the sources via tsx. */
const BUILT = existsSync(join(ROOT, 'dist/cli/main.js'));
const CLI = BUILT ? [join(ROOT, 'bin/berth.js')] : ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
const CLI_LABEL = BUILT
  ? 'node bin/berth.js synth'
  : 'node --import tsx src/cli/main.ts synth (no dist/ yet)';

/** A project of `count` schedule jobs (cron in a time zone, like the CDK side), in existing subnets. */
function writeProject(count: number): string {
  const dir = join(ROOT, '.tmp', `bench-synth-${count}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'jobs'), { recursive: true });
  for (let i = 0; i < count; i++) {
    const name = `job-${String(i).padStart(3, '0')}`;
    writeFileSync(
      join(dir, 'jobs', `${name}.ts`),
      `import { defineJob } from 'berth';\nexport default defineJob({ name: '${name}', trigger: { schedule: { expression: 'cron(${i % 60} 3 * * ? *)', timezone: 'Europe/Berlin' } }, task: { image: '${IMAGE}', cpu: 256, memory: 512 } });\n`,
    );
  }
  writeFileSync(
    join(dir, 'berth.json'),
    JSON.stringify({
      network: {
        subnets: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        securityGroups: ['sg-0123456789abcdef0'],
        assignPublicIp: true,
      },
    }),
  );
  return dir;
}

const OUT = mkdtempSync(join(tmpdir(), 'berth-bench-synth-'));

function synthArgs(dir: string, config?: string): string[] {
  return [
    ...CLI,
    'synth',
    '--service',
    'bench',
    '--out',
    join(OUT, `${dir === ROOT ? 'examples' : 'project'}.json`),
    ...(config ? ['--config', config] : []),
  ];
}

/** berth synth in `dir`, with an empty build cache each run and with a warm one. */
function berthSynth(dir: string, config?: string): { cold: CommandTime; warm: CommandTime } {
  const cold = medianTime(
    Array.from({ length: RUNS }, () =>
      timeCommand(synthArgs(dir, config), dir, { BERTH_BUILD_CACHE: 'off' }),
    ),
  );
  timeCommand(synthArgs(dir, config), dir); // fills the cache
  const warm = medianTime(Array.from({ length: RUNS }, () => timeCommand(synthArgs(dir, config), dir)));
  return { cold, warm };
}

async function cdkSynth(count: number): Promise<CommandTime> {
  // The CDK app as plain JavaScript (as `cdk synth` runs a compiled app), under bench/out so it resolves
  // aws-cdk-lib from the repository.
  const app = join(ROOT, 'bench/out/cdkApp.mjs');
  await build({
    entryPoints: [join(ROOT, 'bench/compile/cdkApp.ts')],
    outfile: app,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
  });
  const outdir = mkdtempSync(join(tmpdir(), 'berth-bench-cdkapp-'));
  try {
    return medianTime(Array.from({ length: RUNS }, () => timeCommand([app, String(count), outdir], ROOT)));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const fmt = (t: CommandTime) => `${t.wall.toFixed(2)} s (cpu ${t.cpu.toFixed(2)} s)`;
{
  const project = writeProject(100);
  try {
    const examples = berthSynth(ROOT);
    const hundred = berthSynth(project, join(project, 'berth.json'));
    const cdk100 = await cdkSynth(100);
    console.log(
      `HEADLINE — the whole command, a fresh process each run, median of ${RUNS} (wall, and CPU of the child)`,
    );
    const head = [
      ['', `berth: ${CLI_LABEL}`, '', 'CDK app, node process', 'CDK ÷ berth'],
      ['', 'empty build cache', 'warm build cache', 'app.synth()', '(empty cache)'],
      ['examples (4 jobs, 1 subscriber)', fmt(examples.cold), fmt(examples.warm), '', ''],
      [
        '100 schedule jobs',
        fmt(hundred.cold),
        fmt(hundred.warm),
        fmt(cdk100),
        `${(cdk100.wall / hundred.cold.wall).toFixed(1)}×`,
      ],
    ];
    const w = head[0]!.map((_, i) => Math.max(...head.map((r) => r[i]!.length)));
    for (const r of head)
      console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
    console.log(
      `goals: examples ≤ 1.0 s, 100 jobs ≤ 1.3 s (wall). Load average now ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on this machine: wall times grow with it, CPU times much less.\n`,
    );
  } finally {
    rmSync(project, { recursive: true, force: true });
    rmSync(OUT, { recursive: true, force: true });
  }
}

console.log('Secondary: the compile step alone, in process (no job loading, no bundling)');
const rows: string[][] = [
  [
    'jobs',
    'berth ms',
    'res/job',
    'total',
    'CDK ms (validated)',
    'CDK ms (no validation)',
    'res/job',
    'total',
    '×(val)',
    '×(no val)',
  ],
];
for (const n of SIZES) {
  const b = measure(() => berth(n));
  const cv = measure(() => cdk(n, true));
  const cn = measure(() => cdk(n, false));
  rows.push([
    String(n),
    b.ms.toFixed(1),
    b.perJob.toFixed(1),
    `${b.resources}${b.overBudget ? ' (over 500: refused)' : ''}`,
    cv.ms.toFixed(0),
    cn.ms.toFixed(0),
    cv.perJob.toFixed(1),
    String(cv.resources),
    `${(cv.ms / b.ms).toFixed(0)}×`,
    `${(cn.ms / b.ms).toFixed(0)}×`,
  ]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i]!)).join('  '));

const bundleStart = performance.now();
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-bundle-'));
const compiled = compileService({
  jobs: inputs(10).map((input) => {
    const r = validateJob(input, 'x.ts');
    if (!r.ok) throw new Error('invalid');
    return r.job;
  }),
  service: 'bench',
  stage: 'dev',
});
const bundles = await bundleFunctions({
  root: BERTH_ROOT,
  moduleExt: BERTH_MODULE_EXT,
  outDir: dir,
  manifest: compiled.manifest,
  functions: compiled.functions,
});
console.log(
  `\nbundling the 3 Lambdas (once per service): ${(performance.now() - bundleStart).toFixed(0)} ms, ${bundles.map((b) => `${b.kind} ${(b.bytes / 1024).toFixed(0)} KiB`).join(', ')}`,
);
rmSync(dir, { recursive: true, force: true });

// The runs console on App Runner (custom.berth.console.appRunner): what it adds to the stack, and its bundle.
{
  const jobs = inputs(10).map((input) => {
    const r = validateJob(input, 'x.ts');
    if (!r.ok) throw new Error('invalid');
    return r.job;
  });
  const count = (config: BerthConfigInput) => {
    const { template } = synthesizeTemplate(
      compileService({ jobs, service: 'bench', stage: 'dev', config }),
      ASSETS,
    );
    return Object.keys(template.Resources).length;
  };
  const without = count({});
  const privateCount = count({ console: { appRunner: true } });
  const publicCount = count({
    console: {
      appRunner: {
        access: 'public',
        image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/console@sha256:${'a'.repeat(64)}`,
      },
    },
  });
  const consoleStart = performance.now();
  const code = await bundleConsole(compiled.manifest);
  console.log(
    `console on App Runner (10 jobs, ${without} resources without it, BerthConsolePolicy included): +${privateCount - without} resources private (service, 2 roles, auto scaling, token secret, endpoint + its security group, ingress connection), +${publicCount - without} public; console image bundle ${(code.length / 1024).toFixed(0)} KiB in ${(performance.now() - consoleStart).toFixed(0)} ms`,
  );
}
console.log(
  `median of ${RUNS} runs after one warm-up; schedule jobs on both sides (berth: cron in a time zone).`,
);
