/**
 * Image benchmark: `berth image build` of the thumbnail example (its `build.entry`, else tasks/thumbnail.*)
 * pushed to a real local registry (CNCF Distribution, `docker-registry`) with the base already there, next to
 * a plain esbuild bundle of the same entry, in one process. Reports the time the image adds over the bundle
 * (target ≤ 1 s), the bytes a no-change rebuild uploads (target 0), a one-line change (target: 1 layer) and the
 * app layer's size (target ≤ 500 KB).
 *
 *   node --import tsx bench/image/run.ts [--runs 5]
 */

import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildNodeImage } from '../../src/image/build.js';
import { MEDIA } from '../../src/image/reference.js';
import { RegistryClient, sha256Digest } from '../../src/image/registry.js';
import { createTar, gzipReproducible } from '../../src/image/tar.js';
import { startRegistry } from '../../test/helpers/registry.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg('runs', 5);

/** The thumbnail job's entry: `build.entry` in jobs/thumbnail.ts, else the task file next to it. */
function thumbnailEntry(): string {
  const job = readFileSync(join(root, 'jobs', 'thumbnail.ts'), 'utf8');
  const fromJob = /entry:\s*['"]([^'"]+)['"]/.exec(job)?.[1];
  if (fromJob) return fromJob;
  for (const file of ['tasks/thumbnail.ts', 'tasks/thumbnail.mjs'])
    if (existsSync(join(root, file))) return file;
  throw new Error('no thumbnail task entry found');
}

/** A node:22-alpine-shaped base (4 layers, ~3 MiB, /etc/passwd with `node`), multi-arch, pushed once. */
async function pushBase(host: string): Promise<string> {
  const client = new RegistryClient({ registry: host });
  const repo = 'library/node';
  const descriptors = [];
  for (const arch of ['amd64', 'arm64']) {
    const tars = [
      createTar([
        { path: 'etc/passwd', type: 'file', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\n') },
        { path: 'lib/libc.so', type: 'file', data: randomBytes(1_200_000) },
      ]),
      createTar([
        {
          path: 'etc/passwd',
          type: 'file',
          data: Buffer.from('root:x:0:0::/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n'),
        },
        { path: 'usr/local/bin/node', type: 'file', data: randomBytes(1_500_000) },
      ]),
      createTar([{ path: 'opt/yarn/yarn.js', type: 'file', data: randomBytes(300_000) }]),
      createTar([
        {
          path: 'usr/local/bin/docker-entrypoint.sh',
          type: 'file',
          mode: 0o755,
          data: Buffer.from('#!/bin/sh\nexec "$@"\n'),
        },
      ]),
    ];
    const layers = [];
    for (const tar of tars) {
      const gz = gzipReproducible(tar);
      await client.uploadBlob(repo, sha256Digest(gz), gz);
      layers.push({ mediaType: MEDIA.ociLayerGzip, digest: sha256Digest(gz), size: gz.length });
    }
    const config = Buffer.from(
      JSON.stringify({
        architecture: arch,
        os: 'linux',
        config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_VERSION=22.12.0'], Cmd: ['node'] },
        rootfs: { type: 'layers', diff_ids: tars.map((t) => sha256Digest(t)) },
        history: tars.map(() => ({ created_by: 'bench base' })),
      }),
    );
    await client.uploadBlob(repo, sha256Digest(config), config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.ociManifest,
        config: { mediaType: MEDIA.ociConfig, digest: sha256Digest(config), size: config.length },
        layers,
      }),
    );
    const digest = await client.putManifest(repo, sha256Digest(manifest), MEDIA.ociManifest, manifest);
    descriptors.push({
      mediaType: MEDIA.ociManifest,
      digest,
      size: manifest.length,
      platform: { os: 'linux', architecture: arch },
    });
  }
  const index = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: descriptors }),
  );
  const digest = await client.putManifest(repo, '22-alpine', MEDIA.ociIndex, index);
  return `${host}/${repo}:22-alpine@${digest}`;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const ms = (n: number) => `${Math.round(n)} ms`;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

const registry = await startRegistry();
const work = mkdtempSync(join(tmpdir(), 'berth-bench-image-'));
try {
  const entry = thumbnailEntry();
  const base = await pushBase(registry.host);
  console.log(
    `entry ${entry}; base ${base.split('@')[0]} (4 layers, already in the registry); ${RUNS} runs each\n`,
  );

  // Anchor: a plain esbuild bundle of the same entry, same options, written to disk.
  const esbuildTimes: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const t = performance.now();
    await build({
      entryPoints: [join(root, entry)],
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      minify: true,
      outfile: join(work, 'esbuild', 'index.mjs'),
      logLevel: 'silent',
      absWorkingDir: root,
    });
    if (i > 0) esbuildTimes.push(performance.now() - t); // first run warms esbuild's service
  }

  // berth image build + push, each run into a new repository (app layer and config sent, base mounted).
  const imageTimes: number[] = [];
  let first: Awaited<ReturnType<typeof buildNodeImage>> | undefined;
  const run = (repository: string, projectDir = root) =>
    buildNodeImage({
      projectDir,
      jobName: 'thumbnail',
      entry,
      base,
      architecture: 'x86_64',
      target: { registry: registry.host, repository },
    });
  await run('warmup/thumbnail');
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const result = await run(`bench/thumbnail-${i}`);
    imageTimes.push(performance.now() - t);
    first ??= result;
  }
  if (!first) throw new Error('no runs');

  // A no-change rebuild into the same repository.
  const rebuildTimes: number[] = [];
  let rebuildBytes = -1;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const again = await run('bench/thumbnail-0');
    rebuildTimes.push(performance.now() - t);
    if (again.digest !== first.digest) throw new Error('a rebuild changed the digest');
    rebuildBytes = Math.max(rebuildBytes, again.bytesUploaded);
  }

  // A one-line change: a copy of the project with the entry edited.
  const copy = join(work, 'project');
  cpSync(join(root, dirname(entry)), join(copy, dirname(entry)), { recursive: true });
  writeFileSync(
    join(copy, entry),
    `${readFileSync(join(root, entry), 'utf8')}\nconsole.log('one more line');\n`,
  );
  const changed = await run('bench/thumbnail-0', copy).catch(() => undefined);

  // The example's task with berth/task inlined (getTrigger, incl. the S3 client for by-reference triggers),
  // when the example itself does not import it yet.
  let withTask: number | undefined;
  if (!readFileSync(join(root, entry), 'utf8').includes('berth/task')) {
    const variant = join(work, 'variant');
    cpSync(join(root, dirname(entry)), join(variant, dirname(entry)), { recursive: true });
    const source = readFileSync(join(root, entry), 'utf8').replace(
      /const trigger = JSON\.parse\([^;]*\);/,
      "const trigger = await (await import('berth/task')).getTrigger();",
    );
    writeFileSync(join(variant, entry), source);
    const r = await run('bench/thumbnail-task', variant);
    withTask = r.layers.at(-1)?.size;
  }

  const app = first.layers.at(-1);
  const esb = median(esbuildTimes);
  const img = median(imageTimes);
  const rows: [string, string, string][] = [
    ['plain esbuild bundle (anchor)', ms(esb), ''],
    ['berth image build + push', ms(img), `${(img / esb).toFixed(2)}× the bundle`],
    ['  added over the bundle', ms(img - esb), img - esb <= 1000 ? 'ok (≤ 1 s)' : 'OVER 1 s'],
    [
      'no-change rebuild',
      ms(median(rebuildTimes)),
      `${rebuildBytes} bytes uploaded ${rebuildBytes === 0 ? 'ok' : 'NOT 0'}`,
    ],
    [
      'one-line change',
      changed
        ? `${changed.layers.filter((l) => l.uploaded).length} layer sent`
        : 'n/a (entry imports outside its folder)',
      changed ? `${changed.bytesUploaded} bytes uploaded` : '',
    ],
    [
      'app layer (gzip)',
      kib(app?.size ?? 0),
      (app?.size ?? 0) <= 500 * 1024 ? 'ok (≤ 500 KB)' : 'OVER 500 KB',
    ],
  ];
  if (withTask !== undefined)
    rows.push([
      '  same task reading its trigger via berth/task',
      kib(withTask),
      withTask <= 500 * 1024 ? 'ok (≤ 500 KB; S3 client for by-reference triggers inside)' : 'OVER 500 KB',
    ]);
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [name, value, note] of rows) console.log(`${name.padEnd(w)}  ${value.padStart(12)}  ${note}`);
  console.log(
    `\nfirst push: ${first.bytesUploaded} bytes (app layer + config; base layers mounted), ${first.reference}`,
  );
  if (img - esb > 1000 || rebuildBytes !== 0 || (app?.size ?? 0) > 500 * 1024 || (withTask ?? 0) > 500 * 1024)
    process.exitCode = 1;
} finally {
  await registry.stop();
  rmSync(work, { recursive: true, force: true });
}
