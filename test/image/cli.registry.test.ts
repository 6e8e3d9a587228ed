/**
 * `berth image build` end to end (the real binary, a real registry): the pinned reference is the last line,
 * `--json` gives the result, a rebuild sends 0 bytes; without --push the image lands in an OCI layout that
 * skopeo reads and that berth pushes like a builder's export; Dockerfile jobs need a working builder.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDockerfileImage, findImageBuilder } from '../../src/image/builders.js';
import { pushLayout } from '../../src/image/push.js';
import { runBerthAsync } from '../cli/runCli.js';
import { type LocalRegistry, startRegistry } from '../helpers/registry.js';
import { jobFile, makeProject, removeProject } from '../loader/tmpProject.js';
import { pushTinyBase, type TinyBase } from './baseImage.js';
import { readImage, skopeoInspect, taskSource } from './support.js';

let registry: LocalRegistry;
let base: TinyBase;
let root: string;
const temps: string[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  base = await pushTinyBase(registry.host, {
    repository: 'base/node',
    tag: 'tiny',
    architectures: ['amd64', 'arm64'],
  });
  root = makeProject('image-cli', {
    'tasks/hello.ts': taskSource('from the cli'),
    'images/report/Dockerfile': 'FROM scratch\n',
  });
  writeFileSync(
    join(root, 'jobs', 'hello.ts'),
    jobFile({
      name: 'hello',

      task: { build: { entry: 'tasks/hello.ts', base: base.reference }, architecture: 'arm64' },
    }),
  );
  writeFileSync(
    join(root, 'jobs', 'report.ts'),
    jobFile({
      name: 'report',

      task: { build: { dockerfile: 'images/report/Dockerfile' } },
    }),
  );
  writeFileSync(
    join(root, 'jobs', 'prebuilt.ts'),
    jobFile({
      name: 'prebuilt',

      task: { image: 'public.ecr.aws/docker/library/node:22-alpine' },
    }),
  );
});

afterAll(async () => {
  await registry?.stop();
  if (root) removeProject(root);
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('berth image build', { timeout: 120_000 }, () => {
  it('pushes and prints the pinned reference as the last line; --json on a rebuild shows 0 bytes uploaded', async () => {
    const run = await runBerthAsync(['image', 'build', 'hello', '--push', `${registry.host}/apps/hello`], {
      cwd: root,
    });
    expect(run.stderr).toMatch(/bundled tasks\/hello\.ts/);
    expect(run.stderr).toMatch(/→ linux\/arm64/);
    expect(run.code).toBe(0);
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(new RegExp(`^${registry.host.replace('.', '\\.')}/apps/hello@sha256:[a-f0-9]{64}$`));
    const digest = last.split('@')[1] as string;
    const { config } = await readImage(registry.host, 'apps/hello', digest);
    expect(config.architecture).toBe('arm64');

    const again = await runBerthAsync(
      ['image', 'build', 'hello', '--push', `${registry.host}/apps/hello`, '--json'],
      {
        cwd: root,
      },
    );
    expect(again.code).toBe(0);
    const json = JSON.parse(again.stdout);
    expect(json).toEqual({
      reference: last,
      digest,
      tag: `hello-${digest.slice(7, 19)}`,
      layers: [
        expect.objectContaining({ digest: base.platforms.arm64?.layer, uploaded: false }),
        expect.objectContaining({ uploaded: false }),
      ],
      bytesUploaded: 0,
    });
  });

  it('without --push writes an OCI layout under .berth/images that skopeo reads and berth can push', async () => {
    const run = await runBerthAsync(['image', 'build', 'hello', '--json'], { cwd: root });
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    const layout = join(root, '.berth', 'images');
    expect(json.reference).toBe(`oci:${layout}@${json.digest}`);
    const inspected = skopeoInspect([`oci:${layout}:${json.tag}`]);
    expect(inspected.Digest).toBe(json.digest);
    expect(inspected.Architecture).toBe('arm64');

    // The same push path a Dockerfile builder's OCI export takes.
    const pushed = await pushLayout({
      dir: layout,
      tag: json.tag,
      jobName: 'hello',
      target: { registry: registry.host, repository: 'apps/from-layout' },
    });
    expect(pushed.digest).toBe(json.digest);
    expect(pushed.layers.map((l) => l.uploaded)).toEqual([true, true]);
    const again = await pushLayout({
      dir: layout,
      tag: json.tag,
      jobName: 'hello',
      target: { registry: registry.host, repository: 'apps/from-layout' },
    });
    expect(again.bytesUploaded).toBe(0);
  });

  it('says clearly what is wrong: a job without build, a bad --push, a Dockerfile job with no builder', async () => {
    const prebuilt = await runBerthAsync(['image', 'build', 'prebuilt'], { cwd: root });
    expect(prebuilt.code).toBe(1);
    expect(prebuilt.stderr).toMatch(/prebuilt: task\.build is not set/);
    const badPush = await runBerthAsync(
      ['image', 'build', 'hello', '--push', `${registry.host}/apps/x:latest`],
      {
        cwd: root,
      },
    );
    expect(badPush.code).toBe(1);
    expect(badPush.stderr).toMatch(/--push .*without a tag or digest/);
    const report = await runBerthAsync(['image', 'build', 'report'], { cwd: root });
    expect(report.code).toBe(1);
    expect(report.stderr).toMatch(/a Dockerfile job needs --push/);
  });
});

describe('Dockerfile builders', () => {
  it('names docker buildx, podman and buildah when none works — a docker CLI without an engine does not count', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'berth-bin-'));
    temps.push(bin);
    // A docker CLI whose engine does not answer, as on this machine.
    writeFileSync(
      join(bin, 'docker'),
      '#!/bin/sh\nif [ "$1" = buildx ]; then echo "github.com/docker/buildx v0.17.1"; exit 0; fi\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2\nexit 1\n',
    );
    chmodSync(join(bin, 'docker'), 0o755);
    const env = { PATH: bin };
    const found = await findImageBuilder(env);
    expect(found.builder).toBeUndefined();
    expect(found.tried.map((t) => t.name)).toEqual(['docker buildx', 'podman', 'buildah']);
    expect(found.tried[0]?.reason).toMatch(/docker info .*Cannot connect to the Docker daemon/);
    const project = mkdtempSync(join(tmpdir(), 'berth-df-'));
    temps.push(project);
    mkdirSync(join(project, 'images'));
    writeFileSync(join(project, 'images', 'Dockerfile'), 'FROM scratch\n');
    await expect(
      buildDockerfileImage({
        projectDir: project,
        jobName: 'report',
        dockerfile: 'images/Dockerfile',
        architecture: 'x86_64',
        target: { registry: registry.host, repository: 'apps/report' },
        env,
      }),
    ).rejects.toThrow(/no image builder works here: tried docker buildx .*podman and buildah/s);
    await expect(
      buildDockerfileImage({
        projectDir: project,
        jobName: 'report',
        dockerfile: '../outside/Dockerfile',
        architecture: 'x86_64',
        target: { registry: registry.host, repository: 'apps/report' },
        env,
      }),
    ).rejects.toThrow(/task\.build\.dockerfile: .* is outside the project/);
  });
});
