/**
 * `berth image build <job>`: builds one job's image (task.build) — a Node task without any daemon, a
 * Dockerfile through docker buildx / podman / buildah — and, with `--push <registry>/<repository>`, pushes it
 * to any registry (plain HTTP for 127.0.0.1/localhost, TLS otherwise unless --insecure). The pinned reference
 * `<registry>/<repository>@sha256:<digest>` is the last line of the output (stdout; progress goes to
 * stderr), or `--json` prints `{ reference, digest, tag, layers, bytesUploaded }`.
 */
import { relative } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import type { BuildProgress, BuildResult, RegistryCredentials, RegistryTarget } from '../../image/types.js';
import { CliError, printJson } from '../output.js';
import { findJob, loadProjectJobs, projectPaths } from '../project.js';
import { registerImageConsole } from './imageConsole.js';
import { registerImageList } from './imageList.js';

interface BuildOptions {
  push?: string;
  insecure?: boolean;
  json?: boolean;
  arch?: string;
}

const ECR_HOST = /^\d{12}\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/** Credentials for the push target: BERTH_REGISTRY_USERNAME/PASSWORD, else for an ECR host GetAuthorizationToken. */
export function credentialsFor(registry: string): RegistryTarget['credentials'] {
  const username = process.env.BERTH_REGISTRY_USERNAME;
  if (username) {
    const creds = { username, password: process.env.BERTH_REGISTRY_PASSWORD ?? '' };
    return async (host) => (host === registry ? creds : undefined);
  }
  const ecr = ECR_HOST.exec(registry);
  if (!ecr) return undefined;
  return async (host): Promise<RegistryCredentials | undefined> => {
    if (host !== registry) return undefined;
    const { ECRClient } = await import('@aws-sdk/client-ecr');
    const { ecrCredentials } = await import('../../plugin/images.js');
    const login = await ecrCredentials(new ECRClient({ region: ecr[2] }));
    return login.credentials;
  };
}

export function progressText(event: BuildProgress): string | undefined {
  const size = (n: number) =>
    n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
  switch (event.step) {
    case 'bundle':
      return `bundled ${event.entry} (${size(event.bytes)}) in ${Math.round(event.ms)} ms`;
    case 'base':
      return `base ${event.reference} → ${event.platform} ${event.digest.slice(0, 19)}`;
    case 'layer':
      return `app layer ${event.digest.slice(0, 19)} (${size(event.size)})`;
    case 'upload':
      return `${event.uploaded ? 'pushed' : 'exists'} ${event.digest.slice(0, 19)} (${size(event.size)})`;
    case 'manifest':
      return `manifest ${event.reference}`;
    case 'builder':
      return `${event.name}: ${event.command}`;
    case 'log':
      return event.text;
  }
}

async function buildCommand(jobName: string, opts: BuildOptions, cmd: Command): Promise<void> {
  const { root } = projectPaths(cmd);
  const job = findJob(await loadProjectJobs(cmd), jobName);
  const build = job.task.build;
  if (!build)
    throw new CliError(
      `${jobName}: task.build is not set — the job runs the prebuilt image ${job.task.image ?? '(none)'}; give it build: { entry: 'tasks/${jobName}.ts' } to let berth build it`,
    );
  const image = await import('../../image/index.js');
  const architecture = (opts.arch ?? job.task.architecture) as 'x86_64' | 'arm64';
  if (architecture !== 'x86_64' && architecture !== 'arm64')
    throw new CliError(`--arch ${opts.arch}: unknown architecture — use x86_64 or arm64`);
  let target: RegistryTarget | undefined;
  if (opts.push) {
    const where = image.parsePushTarget(opts.push);
    const credentials = credentialsFor(where.registry);
    target = {
      ...where,
      ...(opts.insecure ? { insecure: true } : {}),
      ...(credentials ? { credentials } : {}),
    };
  }
  const started = performance.now();
  const onProgress = opts.json
    ? undefined
    : (event: BuildProgress) => {
        const text = progressText(event);
        if (text) process.stderr.write(`${pc.dim(`[${jobName}]`)} ${text}\n`);
      };
  let result: BuildResult;
  if (build.entry !== undefined) {
    result = await image.buildNodeImage({
      projectDir: root,
      jobName: job.name,
      entry: build.entry,
      ...(build.base ? { base: build.base } : {}),
      ...(opts.insecure ? { baseRegistry: { insecure: true } } : {}),
      architecture,
      ...(target ? { target } : {}),
      ...(onProgress ? { onProgress } : {}),
    });
  } else if (build.dockerfile !== undefined) {
    if (!target)
      throw new CliError(
        `${jobName}: a Dockerfile job needs --push <registry>/<repository> (the builder's image is pushed from its OCI export)`,
      );
    result = await image.buildDockerfileImage({
      projectDir: root,
      jobName: job.name,
      dockerfile: build.dockerfile,
      ...(build.context ? { context: build.context } : {}),
      architecture,
      target,
      ...(onProgress ? { onProgress } : {}),
    });
  } else {
    throw new CliError(`${jobName}: task.build needs entry or dockerfile`);
  }
  if (opts.json) {
    printJson({
      reference: result.reference,
      digest: result.digest,
      tag: result.tag,
      layers: result.layers,
      bytesUploaded: result.bytesUploaded,
    });
    return;
  }
  const sent = result.layers.filter((l) => l.uploaded).length;
  process.stderr.write(
    `${pc.green('✔')} ${jobName}: ${result.layers.length} layers, ${sent} sent, ${result.bytesUploaded} bytes uploaded, tag ${result.tag} (${Math.round(performance.now() - started)} ms)\n`,
  );
  if (!target) {
    const dir = relative(process.cwd(), `${root}/.berth/images`) || '.';
    process.stderr.write(
      `  no --push: written to the OCI layout ${dir} — inspect with skopeo inspect oci:${dir}:${result.tag}\n`,
    );
  }
  process.stdout.write(`${result.reference}\n`);
}

export function registerImage(program: Command): void {
  const image = program.command('image').description("Build and push jobs' images (task.build)");
  image
    .command('build <job>')
    .description(
      "Build one job's image; with --push, push it and print the pinned <registry>/<repository>@sha256:… as the last line",
    )
    .option(
      '--push <registry/repository>',
      'push to this registry and repository (e.g. 127.0.0.1:5000/berth/thumbnail)',
    )
    .option('--insecure', 'speak plain HTTP to a registry that is not on 127.0.0.1/localhost')
    .option('--arch <architecture>', "x86_64 or arm64 (default: the job's task.architecture)")
    .option('--json', 'print { reference, digest, tag, layers, bytesUploaded } as JSON')
    .action(async (jobName: string, opts: BuildOptions, cmd: Command) => buildCommand(jobName, opts, cmd));
  registerImageList(image);
  registerImageConsole(image);
}
