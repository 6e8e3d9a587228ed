/**
 * buildNodeImage against a real registry (CNCF Distribution on 127.0.0.1): the pushed image is proven by its
 * manifest, config and layers, by skopeo, and by extracting the app layer and running its bundle with the
 * host's node, trigger included.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetBaseUsers } from '../../src/image/base.js';
import { buildNodeImage } from '../../src/image/build.js';
import { MEDIA } from '../../src/image/reference.js';
import { sha256Digest } from '../../src/image/registry.js';
import type { BuildProgress } from '../../src/image/types.js';
import { type LocalRegistry, startRegistry } from '../helpers/registry.js';
import { PASSWD_ROOT_ONLY, pushTinyBase, type TinyBase } from './baseImage.js';
import { makeProject, readImage, skopeoInspect, taskSource } from './support.js';

let registry: LocalRegistry;
let base: TinyBase;
const projects: string[] = [];

function project(greeting?: string): string {
  const dir = makeProject(greeting);
  projects.push(dir);
  return dir;
}

beforeAll(async () => {
  registry = await startRegistry();
  base = await pushTinyBase(registry.host, {
    repository: 'base/node',
    tag: 'tiny',
    architectures: ['amd64', 'arm64'],
  });
});

afterAll(async () => {
  await registry?.stop();
  for (const dir of projects) rmSync(dir, { recursive: true, force: true });
});

const build = (
  projectDir: string,
  repository: string,
  extra: Partial<Parameters<typeof buildNodeImage>[0]> = {},
) =>
  buildNodeImage({
    projectDir,
    jobName: 'hello',
    entry: 'tasks/hello.ts',
    base: base.reference,
    architecture: 'x86_64',
    target: { registry: registry.host, repository },
    ...extra,
  });

describe('buildNodeImage → a real registry', { timeout: 90_000 }, () => {
  it('pushes the base layers plus ONE app layer, with the config set for the bundle', async () => {
    const events: BuildProgress[] = [];
    const result = await build(project(), 'apps/hello', {
      env: { LOG_LEVEL: 'debug' },
      onProgress: (e) => events.push(e),
    });
    expect(result.reference).toBe(`${registry.host}/apps/hello@${result.digest}`);
    expect(result.tag).toBe(`hello-${result.digest.slice(7, 19)}`);
    expect(result.layers.map((l) => l.digest)).toEqual([
      base.platforms.amd64?.layer,
      expect.stringMatching(/^sha256:[a-f0-9]{64}$/),
    ]);

    // The tag and the digest name the same manifest.
    const { manifest, config, client } = await readImage(registry.host, 'apps/hello', result.tag);
    expect(await client.headManifest('apps/hello', result.digest)).toBe(result.digest);
    expect(manifest.mediaType).toBe(MEDIA.ociManifest);
    expect(manifest.layers).toHaveLength(2);
    expect(manifest.layers[1]?.mediaType).toBe(MEDIA.ociLayerGzip);
    expect(manifest.annotations?.['org.opencontainers.image.base.digest']).toBe(base.digest);
    expect(config.architecture).toBe('amd64');
    expect(config.config?.Entrypoint).toEqual(['node', '/app/index.mjs']);
    expect(config.config?.Cmd).toBeUndefined();
    expect(config.config?.WorkingDir).toBe('/app');
    expect(config.config?.User).toBe('1000:1000'); // `node` from the base's /etc/passwd
    expect(config.config?.Env).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'NODE_VERSION=22.0.0-tiny',
      'LOG_LEVEL=debug',
    ]);
    expect(config.created).toBe('1970-01-01T00:00:00Z');
    expect(config.history).toHaveLength(2);
    expect(config.history?.[1]?.created_by).toContain('tasks/hello.ts');

    // The app layer's diff_id is the sha256 of its uncompressed tar.
    const appLayer = await client.getBlob('apps/hello', manifest.layers[1]?.digest as string);
    const tar = execFileSync('gzip', ['-dc'], { input: appLayer });
    expect(config.rootfs.diff_ids).toEqual([expect.any(String), sha256Digest(tar)]);
    // Its listing: root-owned, mtime 0, nothing but /app/index.mjs.
    const listing = execFileSync('tar', ['-tvf', '-', '--numeric-owner'], { input: tar, encoding: 'utf8' });
    expect(listing.trim().split('\n')).toEqual([
      expect.stringMatching(/^drwxr-xr-x 0\/0 +0 1970-01-01 00:00 app\/$/),
      expect.stringMatching(/^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 app\/index\.mjs$/),
    ]);

    expect(events.map((e) => e.step)).toEqual(['bundle', 'base', 'layer', 'upload', 'upload', 'manifest']);

    // skopeo, an independent client, reads the same image.
    const inspected = skopeoInspect([
      '--tls-verify=false',
      `docker://${registry.host}/apps/hello:${result.tag}`,
    ]);
    expect(inspected.Digest).toBe(result.digest);
    expect(inspected.Architecture).toBe('amd64');
    expect(inspected.Layers).toEqual(manifest.layers.map((l) => l.digest));
    expect(inspected.Env).toContain('LOG_LEVEL=debug');
  });

  it('the app layer alone runs the task with the host node: berth/task is inlined, the trigger is read', async () => {
    const result = await build(project('hello from the image'), 'apps/run');
    const { manifest, client } = await readImage(registry.host, 'apps/run', result.digest);
    const out = mkdtempSync(join(tmpdir(), 'berth-app-layer-'));
    projects.push(out);
    const blob = await client.getBlob('apps/run', manifest.layers.at(-1)?.digest as string);
    writeFileSync(join(out, 'layer.tar.gz'), blob);
    execFileSync('tar', ['-xzf', 'layer.tar.gz'], { cwd: out });
    const bundle = readFileSync(join(out, 'app', 'index.mjs'), 'utf8');
    expect(bundle).not.toMatch(/from ?["']berth\/task["']/);
    const trigger = {
      kind: 's3',
      bucket: 'uploads',
      key: 'images/cat.jpg',
      size: 12,
      time: '2026-01-01T00:00:00Z',
    };
    const env = { PATH: process.env.PATH ?? '', BERTH_JOB: 'hello', BERTH_ATTEMPT: '2', BERTH_RUN_ID: 'r-1' };
    // No node_modules anywhere near: the bundle stands alone.
    const run = spawnSync(process.execPath, [join(out, 'app', 'index.mjs')], {
      cwd: out,
      env: { ...env, BERTH_TRIGGER: JSON.stringify(trigger) },
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      greeting: 'hello from the image',
      job: 'hello',
      attempt: 2,
      bucket: 'uploads',
      key: 'images/cat.jpg',
    });
    // A trigger passed by reference (a file here; s3:// loads the SDK bundled alongside).
    writeFileSync(join(out, 'trigger.json'), JSON.stringify({ ...trigger, key: 'images/by-ref.jpg' }));
    const byRef = spawnSync(process.execPath, [join(out, 'app', 'index.mjs')], {
      cwd: out,
      env: { ...env, BERTH_TRIGGER_REF: `file://${join(out, 'trigger.json')}` },
      encoding: 'utf8',
    });
    expect(JSON.parse(byRef.stdout).key).toBe('images/by-ref.jpg');
  });

  it('is reproducible: the same sources in two projects give one digest', async () => {
    const a = await build(project('same'), 'apps/repro');
    const b = await build(project('same'), 'apps/repro-2');
    expect(b.digest).toBe(a.digest);
    expect(b.layers).toEqual(a.layers.map((l) => ({ ...l })));
  });

  it('is incremental: a rebuild sends 0 bytes; a one-line change sends exactly the app layer (and config)', async () => {
    const dir = project('v1');
    const first = await build(dir, 'apps/incr');
    // The base layer is mounted from base/node (same registry): no bytes sent for it.
    expect(first.layers.map((l) => l.uploaded)).toEqual([false, true]);
    expect(first.bytesUploaded).toBeGreaterThan(0);

    const again = await build(dir, 'apps/incr');
    expect(again.digest).toBe(first.digest);
    expect(again.bytesUploaded).toBe(0);
    expect(again.layers.every((l) => !l.uploaded)).toBe(true);

    writeFileSync(join(dir, 'tasks', 'hello.ts'), taskSource('v2'));
    const changed = await build(dir, 'apps/incr');
    expect(changed.digest).not.toBe(first.digest);
    expect(changed.layers.filter((l) => l.uploaded)).toHaveLength(1);
    expect(changed.layers.map((l) => l.uploaded)).toEqual([false, true]);
    const { manifest } = await readImage(registry.host, 'apps/incr', changed.digest);
    const app = changed.layers[1];
    expect(changed.bytesUploaded).toBe((app?.size ?? 0) + manifest.config.size);
    // Both tags stay: content tags are never moved.
    const { manifest: old } = await readImage(registry.host, 'apps/incr', first.tag);
    expect(old.layers[1]?.digest).toBe(first.layers[1]?.digest);
  });

  it('picks the platform from the multi-arch index: arm64 and x86_64 get different base layers', async () => {
    const dir = project('arch');
    const amd = await build(dir, 'apps/arch', { architecture: 'x86_64' });
    const arm = await build(dir, 'apps/arch', { architecture: 'arm64' });
    expect(amd.layers[0]?.digest).toBe(base.platforms.amd64?.layer);
    expect(arm.layers[0]?.digest).toBe(base.platforms.arm64?.layer);
    expect(arm.layers[1]?.digest).toBe(amd.layers[1]?.digest); // same app layer
    const { config } = await readImage(registry.host, 'apps/arch', arm.digest);
    expect(config.architecture).toBe('arm64');
    const inspected = skopeoInspect([
      '--tls-verify=false',
      `docker://${registry.host}/apps/arch@${arm.digest}`,
    ]);
    expect(inspected.Architecture).toBe('arm64');
  });

  it('refuses an architecture the base lacks, naming what it offers', async () => {
    const amdOnly = await pushTinyBase(registry.host, {
      repository: 'base/amd-only',
      tag: 'idx',
      architectures: ['amd64'],
    });
    await expect(
      build(project(), 'apps/err', { base: amdOnly.reference, architecture: 'arm64' }),
    ).rejects.toThrow(
      /task\.build\.base: base image .*base\/amd-only:idx has no linux\/arm64 image for task\.architecture 'arm64' — it offers linux\/amd64/,
    );
    const single = await pushTinyBase(registry.host, {
      repository: 'base/amd-single',
      tag: 'one',
      architectures: ['amd64'],
      index: false,
    });
    await expect(
      build(project(), 'apps/err', { base: single.reference, architecture: 'arm64' }),
    ).rejects.toThrow(/is built for linux\/amd64, not linux\/arm64 \(task\.architecture 'arm64'\)/);
    await expect(build(project(), 'apps/err', { base: `${registry.host}/base/missing:1` })).rejects.toThrow(
      /base\/missing:1 was not found/,
    );
    await expect(build(project(), 'apps/err', { entry: 'tasks/nope.ts' })).rejects.toThrow(
      /task\.build\.entry: tasks\/nope\.ts does not exist/,
    );
  });

  it("reads a base's /etc/passwd once per project: the user found is kept in .berth/images/base-users.json", async () => {
    const other = await pushTinyBase(registry.host, {
      repository: 'base/cached',
      tag: 'x',
      architectures: ['amd64'],
    });
    const dir = project('cache');
    const first = await build(dir, 'apps/cached', { base: other.reference });
    expect((await readImage(registry.host, 'apps/cached', first.digest)).config.config?.User).toBe(
      '1000:1000',
    );
    const file = join(dir, '.berth', 'images', 'base-users.json');
    const key = `${registry.host}/base/cached@${other.platforms.amd64?.manifest}`;
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ [key]: '1000:1000' });
    // What a later process finds on disk is used without reading the layers again.
    writeFileSync(file, JSON.stringify({ [key]: '4242:4242' }));
    forgetBaseUsers();
    const second = await build(dir, 'apps/cached', { base: other.reference });
    expect((await readImage(registry.host, 'apps/cached', second.digest)).config.config?.User).toBe(
      '4242:4242',
    );
  });

  it('keeps root only when the base has no non-root user, and keeps a base that already sets one', async () => {
    const rootOnly = await pushTinyBase(registry.host, {
      repository: 'base/root-only',
      tag: 'x',
      architectures: ['amd64'],
      passwd: PASSWD_ROOT_ONLY,
    });
    const logs: string[] = [];
    const r = await build(project(), 'apps/root', {
      base: rootOnly.reference,
      onProgress: (e) => e.step === 'log' && logs.push(e.text),
    });
    expect((await readImage(registry.host, 'apps/root', r.digest)).config.config?.User).toBeUndefined();
    expect(logs.join('\n')).toMatch(/no non-root user .* runs as root/);

    const withUser = await pushTinyBase(registry.host, {
      repository: 'base/with-user',
      tag: 'x',
      architectures: ['amd64'],
      passwd: PASSWD_ROOT_ONLY,
      user: 'app:app',
    });
    const u = await build(project(), 'apps/user', { base: withUser.reference });
    expect((await readImage(registry.host, 'apps/user', u.digest)).config.config?.User).toBe('app:app');
  });

  it('keeps Docker media types for a Docker base, and copies base layers into another repository by mount', async () => {
    const dockerBase = await pushTinyBase(registry.host, {
      repository: 'base/docker',
      tag: 'v2',
      architectures: ['amd64', 'arm64'],
      docker: true,
    });
    const r = await build(project(), 'apps/docker', { base: dockerBase.reference });
    // mounted, not uploaded: the registry already had the bytes in base/docker
    expect(r.layers[0]?.uploaded).toBe(false);
    const { manifest, config } = await readImage(registry.host, 'apps/docker', r.digest);
    expect(manifest.mediaType).toBe(MEDIA.dockerManifest);
    expect(manifest.config.mediaType).toBe(MEDIA.dockerConfig);
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([MEDIA.dockerLayerGzip, MEDIA.dockerLayerGzip]);
    expect(config.config?.User).toBe('1000:1000');
    const inspected = skopeoInspect([
      '--tls-verify=false',
      `docker://${registry.host}/apps/docker@${r.digest}`,
    ]);
    expect(inspected.Layers).toHaveLength(2);
  });
});
