#!/usr/bin/env node
/**
 * The consumer test: berth used the way a team adopts it, from its own repository.
 *
 *   npm pack → a fresh project (`npm init -y`: "type": "commonjs") → npm install <tarball> → npx berth init →
 *   npm install → berth validate / list / schedule → berth dev (a bucket file → a run that succeeds, then
 *   stop) → berth synth → npx serverless package with the plugin (cfn-lint on the template) → a task script
 *   on plain node reads its trigger through berth/task → tsc --noEmit with a strict tsconfig.
 *
 * Installs from the npm registry (the npm cache serves what the repository's own install fetched). Prints the
 * time of each step; exits non-zero at the first failure, naming the step and its output.
 *   npm run test:consumer            (keeps nothing; BERTH_CONSUMER_KEEP=1 keeps the project folder)
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'berth-consumer-'));
const project = join(work, 'acme-jobs');
const started = Date.now();
const env = {
  ...process.env,
  CI: 'true',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  npm_config_update_notifier: 'false',
};
delete env.npm_config_prefix;
for (const key of Object.keys(env))
  if (key.startsWith('npm_package_') || key === 'npm_lifecycle_event' || key === 'npm_lifecycle_script')
    delete env[key];

function fail(step, detail) {
  console.error(`\n✖ consumer test: ${step}\n${detail ?? ''}`);
  console.error(`  project kept at ${project}`);
  process.exit(1);
}

function run(step, cmd, args, options = {}) {
  const t0 = Date.now();
  try {
    const out = execFileSync(cmd, args, {
      cwd: options.cwd ?? project,
      env: { ...env, ...(options.env ?? {}) },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeout ?? 180_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    console.log(`✔ ${step} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return out;
  } catch (error) {
    fail(
      `${step}: ${cmd} ${args.join(' ')} exited ${error.status ?? error.signal}`,
      `${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
  }
}

function expectThat(step, ok, detail) {
  if (!ok) fail(step, detail);
}

// 1. The tarball, as `npm publish` would ship it.
const packed = JSON.parse(
  run('npm pack', 'npm', ['pack', '--json', '--pack-destination', work], { cwd: repo }).replace(
    /^[^[]*/s,
    '',
  ),
);
const tarball = join(work, packed[0].filename);
const files = packed[0].files.map((f) => f.path);
const unpacked = packed[0].files.reduce((sum, f) => sum + f.size, 0);
console.log(`  ${packed[0].filename}: ${files.length} files, ${unpacked} bytes unpacked`);
for (const bad of [/^test\//, /^bench\//, /^jobs\//, /^src\//, /\.png$/, /^\.tmp\//])
  expectThat(
    'tarball contents',
    !files.some((f) => bad.test(f)),
    `ships ${files.filter((f) => bad.test(f)).join(', ')}`,
  );
// The size guard catches what the patterns above miss (a folder of fixtures, a bundled dependency); it grows
// with features only: 1.41 MB before the runs console, App Runner and the job pages, 1.76 MB after.
expectThat('tarball size', unpacked <= 2_000_000, `${unpacked} bytes unpacked (limit 2,000,000)`);

// 2. A fresh project, as `npm init -y` writes it (npm 11: "type": "commonjs").
mkdirSync(project, { recursive: true });
run('npm init -y', 'npm', ['init', '-y']);
const initial = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
if (initial.type === undefined) {
  // Older npm leaves "type" out; the test wants the CommonJS layout explicitly either way.
  initial.type = 'commonjs';
  writeFileSync(join(project, 'package.json'), JSON.stringify(initial, null, 2));
}
// better-sqlite3 has no prebuilt binary this machine can download, so npm would compile it again (~100 s).
// prebuild-install's documented local-prebuilds folder hands it the binary the repository's own install
// compiled, for the same version and Node ABI; any other version still compiles from source.
const sqlite = join(repo, 'node_modules', 'better-sqlite3');
if (existsSync(join(sqlite, 'build', 'Release', 'better_sqlite3.node'))) {
  const { version: sqliteVersion } = JSON.parse(readFileSync(join(sqlite, 'package.json'), 'utf8'));
  const prebuilds = join(work, 'prebuilds');
  mkdirSync(prebuilds);
  const name = `better-sqlite3-v${sqliteVersion}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['czf', join(prebuilds, name), '-C', sqlite, 'build/Release/better_sqlite3.node']);
  env.npm_config_better_sqlite3_local_prebuilds = prebuilds;
}
run('npm install <tarball>', 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
  timeout: 600_000,
});
const initOut = run('npx berth init', 'npx', ['--no-install', 'berth', 'init']);
expectThat('berth init prints the next commands', /Next:\n\s+npm install/.test(initOut), initOut);
run('npm install (osls, typescript)', 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
  timeout: 600_000,
});
const version = run('berth --version', 'npx', ['--no-install', 'berth', '--version']).trim();
expectThat(
  'berth --version',
  version === JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version,
  version,
);

// 3. The everyday commands.
const validated = run('berth validate', 'npx', ['--no-install', 'berth', 'validate']);
expectThat('berth validate', /4 jobs valid/.test(validated), validated);
const listed = JSON.parse(run('berth list --json', 'npx', ['--no-install', 'berth', 'list', '--json']));
expectThat(
  'berth list',
  listed.map((j) => j.name).join(',') === 'nightly-report,process-order,reindex,thumbnail',
  JSON.stringify(listed),
);
const fires = JSON.parse(
  run('berth schedule', 'npx', [
    '--no-install',
    'berth',
    'schedule',
    'nightly-report',
    '--count',
    '3',
    '--json',
  ]),
);
expectThat(
  'berth schedule',
  JSON.stringify(fires).match(/T02:00:00\+09:00/g)?.length === 3,
  JSON.stringify(fires),
);

// 4. berth dev: a bucket file starts a run that succeeds; then stop.
await (async () => {
  const t0 = Date.now();
  const bin = join(project, 'node_modules', '.bin', 'berth');
  const dev = spawn(bin, ['dev', '--port', '0', '--plain'], {
    cwd: project,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  dev.stdout.on('data', (d) => (log += d));
  dev.stderr.on('data', (d) => (log += d));
  const deadline = Date.now() + 60_000;
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  while (!/dashboard\s+http:\/\/127\.0\.0\.1:\d+/.test(log)) {
    if (dev.exitCode !== null || Date.now() > deadline) fail('berth dev did not start', log);
    await wait(100);
  }
  writeFileSync(join(work, 'cat.jpg'), 'not really a jpeg');
  run('berth put', bin, ['put', 'uploads', join(work, 'cat.jpg'), '--key', 'images/cat.jpg']);
  let runs = [];
  while (!runs.some((r) => r.job === 'thumbnail' && r.status === 'succeeded')) {
    if (dev.exitCode !== null || Date.now() > deadline)
      fail('no succeeded thumbnail run under berth dev', `${log}\n${JSON.stringify(runs)}`);
    await wait(250);
    runs = JSON.parse(execFileSync(bin, ['runs', 'list', '--json'], { cwd: project, env, encoding: 'utf8' }));
  }
  expectThat(
    'the task read its trigger',
    /thumbnail of s3:\/\/uploads\/images\/cat\.jpg/.test(
      readFileSync(join(project, '.berth', 'logs', `${runs[0].runId}.1.log`), 'utf8'),
    ),
    log,
  );
  dev.kill('SIGINT');
  const code = await new Promise((r) => dev.on('exit', (c, s) => r(c ?? s)));
  expectThat(
    'berth dev stops on Ctrl-C',
    code === 0 || code === 130 || code === 'SIGINT',
    `exit ${code}\n${log}`,
  );
  console.log(
    `✔ berth dev: bucket file → run ${runs[0].runId} succeeded, stopped (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
})();

// 5. The stack, without and with Serverless.
run('berth synth', 'npx', ['--no-install', 'berth', 'synth', '--out', '.berth-synth']);
run('npx serverless package', 'npx', ['--no-install', 'serverless', 'package'], { timeout: 300_000 });
const template = join(project, '.serverless', 'cloudformation-template-update-stack.json');
expectThat('serverless package wrote the template', existsSync(template), template);
const resources = Object.keys(JSON.parse(readFileSync(template, 'utf8')).Resources);
expectThat(
  'the template holds the jobs',
  resources.some((r) => /TaskDefinition/.test(r)),
  resources.join(', '),
);
try {
  execFileSync('cfn-lint', ['--', template], { encoding: 'utf8', stdio: 'pipe' });
  console.log(`✔ cfn-lint: ${resources.length} resources, no findings`);
} catch (error) {
  fail('cfn-lint on the packaged template', `${error.stdout ?? ''}${error.stderr ?? ''}`);
}

// 6. A task script on plain node (no tsx) reads its trigger through berth/task.
const trigger = {
  kind: 's3',
  bucket: 'uploads',
  key: 'images/dog.jpg',
  size: 5,
  etag: 'e',
  eventTime: '2026-11-28T00:00:00Z',
};
const taskOut = run('node tasks/thumbnail.mjs', process.execPath, ['tasks/thumbnail.mjs'], {
  env: {
    BERTH_TRIGGER: JSON.stringify(trigger),
    BERTH_ATTEMPT: '1',
    BERTH_MAX_ATTEMPTS: '3',
    BERTH_RUN_ID: 'r-1',
    BERTH_JOB: 'thumbnail',
  },
});
expectThat('the task printed its trigger', taskOut.includes('s3://uploads/images/dog.jpg'), taskOut);

// 7. The project type-checks with its strict tsconfig, and berth's own declarations too (skipLibCheck off).
run('tsc --noEmit', 'npx', [
  '--no-install',
  'tsc',
  '--noEmit',
  '-p',
  'tsconfig.json',
  '--skipLibCheck',
  'false',
]);

console.log(`\nconsumer test passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
if (!process.env.BERTH_CONSUMER_KEEP) rmSync(work, { recursive: true, force: true });
