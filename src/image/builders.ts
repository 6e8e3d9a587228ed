/**
 * `buildDockerfileImage`: a `task.build.dockerfile` job goes to the first builder that actually works —
 * `docker buildx` (a Docker engine must answer `docker info`), `podman`, `buildah` — which exports the image
 * as an OCI layout; berth pushes that layout itself (see push.ts), so every builder gets the same incremental
 * upload, content tag and digest pin. With none of them working, the error names all three.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pushLayout } from './push.js';
import { ociArchitecture } from './reference.js';
import { type BuildDockerfileImageOptions, type BuildResult, ImageBuildError } from './types.js';

export type BuilderName = 'docker buildx' | 'podman' | 'buildah';

export interface ImageBuilder {
  name: BuilderName;
  /** argv to build `dockerfile` in `context` for `platform` and export an OCI layout to `outDir`. */
  commands(input: {
    dockerfile: string;
    context: string;
    platform: string;
    outDir: string;
    name: string;
  }): string[][];
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  argv: string[],
  env: NodeJS.ProcessEnv,
  onLine?: (line: string) => void,
  timeoutMs = 0,
): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = timeoutMs ? setTimeout(() => child.kill('SIGKILL'), timeoutMs) : undefined;
    const feed = (chunk: Buffer, into: 'out' | 'err') => {
      const text = chunk.toString();
      if (into === 'out') stdout += text;
      else stderr = (stderr + text).slice(-8000);
      if (onLine) for (const line of text.split('\n')) if (line.trim()) onLine(line);
    };
    child.stdout.on('data', (c: Buffer) => feed(c, 'out'));
    child.stderr.on('data', (c: Buffer) => feed(c, 'err'));
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      resolvePromise({ code: 127, stdout, stderr: error.message });
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolvePromise({ code: code ?? 1, stdout, stderr });
    });
  });
}

const BUILDERS: { builder: ImageBuilder; probe: string[][] }[] = [
  {
    // The docker CLI alone is not enough: `docker info` fails when no engine answers.
    probe: [
      ['docker', 'buildx', 'version'],
      ['docker', 'info', '--format', '{{.ServerVersion}}'],
    ],
    builder: {
      name: 'docker buildx',
      commands: ({ dockerfile, context, platform, outDir }) => [
        [
          'docker',
          'buildx',
          'build',
          '--platform',
          platform,
          '--file',
          dockerfile,
          '--provenance=false',
          '--output',
          `type=oci,dest=${outDir},tar=false`,
          context,
        ],
      ],
    },
  },
  {
    probe: [['podman', 'info', '--format', '{{.Host.Arch}}']],
    builder: {
      name: 'podman',
      commands: ({ dockerfile, context, platform, outDir, name }) => [
        ['podman', 'build', '--platform', platform, '--file', dockerfile, '--tag', name, context],
        ['podman', 'push', name, `oci:${outDir}`],
      ],
    },
  },
  {
    probe: [['buildah', 'info']],
    builder: {
      name: 'buildah',
      commands: ({ dockerfile, context, platform, outDir, name }) => [
        ['buildah', 'build', '--platform', platform, '--file', dockerfile, '--tag', name, context],
        ['buildah', 'push', name, `oci:${outDir}`],
      ],
    },
  },
];

export const NO_BUILDER_MESSAGE =
  'no image builder works here: tried docker buildx (needs a running Docker engine — `docker info` must answer), podman and buildah — install one of them, or give the job task.build.entry (a Node task, built without any of them)';

/** The first builder whose probes all succeed, and why each earlier one was passed over. */
export async function findImageBuilder(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ builder: ImageBuilder | undefined; tried: { name: BuilderName; reason: string }[] }> {
  const tried: { name: BuilderName; reason: string }[] = [];
  for (const { builder, probe } of BUILDERS) {
    let reason = '';
    for (const argv of probe) {
      const r = await run(argv, env, undefined, 15_000);
      if (r.code !== 0) {
        reason = `\`${argv.join(' ')}\` failed: ${(r.stderr.trim().split('\n').pop() ?? '').slice(0, 200) || `exit ${r.code}`}`;
        break;
      }
    }
    if (!reason) return { builder, tried };
    tried.push({ name: builder.name, reason });
  }
  return { builder: undefined, tried };
}

export async function buildDockerfileImage(
  opts: BuildDockerfileImageOptions & { env?: NodeJS.ProcessEnv },
): Promise<BuildResult> {
  const progress = opts.onProgress ?? (() => {});
  const root = resolve(opts.projectDir);
  const dockerfile = resolve(root, opts.dockerfile);
  const context = resolve(root, opts.context ?? dirname(opts.dockerfile));
  for (const [field, path] of [
    ['task.build.dockerfile', dockerfile],
    ['task.build.context', context],
  ] as const) {
    const rel = relative(root, path);
    if (rel.startsWith('..') || resolve(rel) === rel)
      throw new ImageBuildError(
        `${field}: ${path} is outside the project ${root} — keep it inside the project`,
      );
    if (!existsSync(path)) throw new ImageBuildError(`${field}: ${rel} does not exist`);
  }
  const { builder, tried } = await findImageBuilder(opts.env);
  if (!builder)
    throw new ImageBuildError(
      `${NO_BUILDER_MESSAGE}\n${tried.map((t) => `  ${t.name}: ${t.reason}`).join('\n')}`,
    );
  const outDir = mkdtempSync(join(tmpdir(), 'berth-image-'));
  try {
    const platform = `linux/${ociArchitecture(opts.architecture)}`;
    const name = `localhost/berth-build/${opts.jobName}:latest`;
    for (const argv of builder.commands({ dockerfile, context, platform, outDir, name })) {
      progress({ step: 'builder', name: builder.name, command: argv.join(' ') });
      const r = await run(argv, opts.env ?? process.env, (line) => progress({ step: 'log', text: line }));
      if (r.code !== 0)
        throw new ImageBuildError(
          `${builder.name} failed building ${opts.dockerfile} (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-5).join('\n')}`,
        );
    }
    return await pushLayout({
      dir: outDir,
      jobName: opts.jobName,
      target: opts.target,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
