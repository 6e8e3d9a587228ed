/**
 * The console's App Runner image, built into a real registry (CNCF Distribution on 127.0.0.1) and proven by
 * its contents: the config runs `node /app/index.mjs`, the app layer holds the bundle (with the stage's
 * manifest) and the dashboard's assets byte for byte, and no job-file loader. Then the bundle itself, taken
 * out of the layer, runs with the host's node against moto with the environment App Runner gives it: the
 * health check answers, every page asks for sign-in, a signed-in request sees the manifest's jobs, a foreign
 * Host gets 403.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_ENV } from '../../src/compiler/appRunner.js';
import { compileService } from '../../src/compiler/compile.js';
import { LISTEN_ENV } from '../../src/console/appRunner.js';
import { buildConsoleImage } from '../../src/console/image.js';
import type { BuildResult } from '../../src/image/types.js';
import { job } from '../compiler/helpers.js';
import { type LocalRegistry, startRegistry } from '../helpers/registry.js';
import { pushTinyBase, type TinyBase } from '../image/baseImage.js';
import { readImage } from '../image/support.js';
import { type MotoStack, startMotoStack } from '../runtime/aws/motoStack.js';

const ROOT = join(import.meta.dirname, '../..');
const TOKEN = 'c0ns0leT0kenc0ns0leT0kenc0ns0leT0kenc0ns0leT0ken';
const APP_HOST = 'q7abc123de.us-east-1.awsapprunner.com';
const REPOSITORY = 'berth/shop-dev/console';

const jobs = [
  job({ name: 'nightly-report', trigger: { schedule: { expression: 'cron(0 3 * * ? *)' } } }),
  job({ name: 'order-sync', trigger: { queue: { batchSize: 1 } } }),
];
const manifest = compileService({ jobs, service: 'shop', stage: 'dev' }).manifest;

let registry: LocalRegistry;
let base: TinyBase;
let built: BuildResult;
let stack: MotoStack;
const dirs: string[] = [];
let child: ChildProcess | undefined;

function tmp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  registry = await startRegistry();
  base = await pushTinyBase(registry.host, {
    repository: 'base/node',
    tag: 'tiny',
    architectures: ['amd64'],
  });
  built = await buildConsoleImage({
    manifest,
    target: { registry: registry.host, repository: REPOSITORY },
    base: base.reference,
    projectDir: tmp('berth-console-image-'),
  });
  stack = await startMotoStack({ name: 'shop-dev', jobs });
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGTERM');
  await registry?.stop();
  await stack?.moto.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The app layer (the last one) unpacked into a fresh folder. */
async function unpackAppLayer(): Promise<string> {
  const { manifest: m, client } = await readImage(registry.host, REPOSITORY, built.digest);
  const layer = m.layers.at(-1)!;
  const dir = tmp('berth-console-layer-');
  const file = join(dir, 'layer.tar.gz');
  writeFileSync(file, await client.getBlob(REPOSITORY, layer.digest));
  execFileSync('tar', ['-xzf', file, '-C', dir]);
  return dir;
}

describe('the console image', { timeout: 120_000 }, () => {
  it('is pinned by digest and runs node /app/index.mjs on x86_64', async () => {
    expect(built.reference).toBe(`${registry.host}/${REPOSITORY}@${built.digest}`);
    expect(built.tag).toMatch(/^console-[0-9a-f]{12}$/);
    const { config, manifest: m } = await readImage(registry.host, REPOSITORY, built.digest);
    expect(config.architecture).toBe('amd64');
    expect(config.config?.Entrypoint).toEqual(['node', '/app/index.mjs']);
    expect(config.config?.Labels?.['dev.berth.job']).toBe('console');
    // The base's layers, then exactly one app layer.
    expect(m.layers).toHaveLength(2);
  });

  it('carries the bundle with the manifest, and the dashboard assets byte for byte', async () => {
    const dir = await unpackAppLayer();
    const code = readFileSync(join(dir, 'app/index.mjs'), 'utf8');
    expect(code).toContain('globalThis.__BERTH_MANIFEST__ = ');
    expect(code).toContain('"nightly-report"');
    expect(code).toContain('"order-sync"');
    // The job-file loader (and esbuild with it) stays out: the image has no job files.
    expect(code).toContain('the console image has no job files');
    expect(code).not.toMatch(/esbuild-(linux|darwin)|@esbuild\//);
    for (const asset of ['dashboard.css', 'dashboard.js'])
      expect(readFileSync(join(dir, 'app/assets', asset))).toEqual(
        readFileSync(join(ROOT, 'src/dashboard/assets', asset)),
      );
  });

  it('runs: health check open, sign-in required, the manifest jobs shown to a signed-in request', async () => {
    const dir = await unpackAppLayer();
    const env = {
      PATH: process.env.PATH ?? '',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_ENDPOINT_URL: stack.moto.endpoint,
      PORT: '0',
      [LISTEN_ENV]: '127.0.0.1',
      [CONSOLE_ENV.service]: 'shop',
      [CONSOLE_ENV.stage]: 'dev',
      [CONSOLE_ENV.region]: 'us-east-1',
      [CONSOLE_ENV.token]: TOKEN,
      [CONSOLE_ENV.runsTable]: stack.cfg.runsTable,
      [CONSOLE_ENV.launchQueueUrl]: stack.cfg.launchQueueUrl,
      [CONSOLE_ENV.cluster]: stack.cfg.cluster,
    };
    child = spawn(process.execPath, [join(dir, 'app/index.mjs')], { cwd: join(dir, 'app'), env });
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the console did not start: ${output}`)), 30_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = /listening on port (\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', (code) => reject(new Error(`the console exited (${code}): ${output}`)));
    });
    const get = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: string; location?: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString();
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body,
              ...(res.headers.location ? { location: res.headers.location } : {}),
            }),
          );
        });
        req.on('error', reject);
        req.end();
      });

    expect(await get('/healthz', { host: '169.254.1.1:8080' })).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await get('/', { host: APP_HOST, accept: 'text/html' })).toMatchObject({
      status: 303,
      location: '/login?next=%2F',
    });
    expect((await get('/api/runs', { host: APP_HOST })).status).toBe(401);
    const page = await get('/', { host: APP_HOST, authorization: `Bearer ${TOKEN}`, accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('nightly-report');
    expect(page.body).toContain('order-sync');
    expect(
      (await get('/', { host: 'rebound.attacker.example', authorization: `Bearer ${TOKEN}` })).status,
    ).toBe(403);

    // SIGTERM (App Runner's stop) ends it cleanly.
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
