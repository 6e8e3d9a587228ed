/**
 * `buildNodeImage`: a `task.build.entry` job's image with no daemon. The entry is bundled (esbuild) while the
 * base's manifest for the task's platform is fetched; the bundle becomes ONE app layer on top of the base's
 * layers; blobs the target already has are never sent again (HEAD first; base layers are mounted across
 * repositories of the same registry, or copied); the manifest is pushed under the content tag
 * `<job>-<hash>` and the result is pinned by digest.
 */
import { join, relative } from 'node:path';
import {
  appLayer,
  configBlob,
  imageConfig,
  imageContentTag,
  imageManifest,
  usesDockerMediaTypes,
} from './assemble.js';
import { chooseUser, DEFAULT_NODE_BASE, DEFAULT_NODE_BASE_USER, resolveBase } from './base.js';
import { bundleTaskEntry } from './bundle.js';
import { OciLayout } from './layout.js';
import { parseImageReference } from './reference.js';
import { RegistryClient, sha256Digest } from './registry.js';
import {
  type BuildNodeImageOptions,
  type BuildResult,
  ImageBuildError,
  type LayerResult,
  type RegistryTarget,
} from './types.js';

/** Runs `fn` over `items` with at most `limit` at a time, keeping order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A client per registry host (and TLS/credential setting), shared within one build. */
function clientFor(
  cache: Map<string, RegistryClient>,
  registry: string,
  options: Pick<RegistryTarget, 'insecure' | 'credentials'> | undefined,
): RegistryClient {
  const key = `${registry}|${options?.insecure ? 'insecure' : ''}`;
  let client = cache.get(key);
  if (!client) {
    client = new RegistryClient({
      registry,
      ...(options?.insecure ? { insecure: true } : {}),
      ...(options?.credentials ? { credentials: options.credentials } : {}),
    });
    cache.set(key, client);
  }
  return client;
}

export async function buildNodeImage(opts: BuildNodeImageOptions): Promise<BuildResult> {
  const progress = opts.onProgress ?? (() => {});
  const baseRef = opts.base ?? DEFAULT_NODE_BASE;
  const parsedBase = parseImageReference(baseRef);
  const clients = new Map<string, RegistryClient>();
  const target = opts.target;
  const sameRegistry = target !== undefined && target.registry === parsedBase.registry;
  const baseClient = clientFor(
    clients,
    parsedBase.registry,
    opts.baseRegistry ?? (sameRegistry ? target : undefined),
  );

  // Bundle and fetch the base at the same time.
  const [bundle, base] = await Promise.all([
    opts.code
      ? Promise.resolve({ code: Buffer.from(opts.code), ms: 0 })
      : bundleTaskEntry(opts.projectDir, opts.entry),
    resolveBase(baseClient, baseRef, opts.architecture).catch((error: unknown) => {
      if (error instanceof ImageBuildError)
        throw new ImageBuildError(`${opts.base ? 'task.build.base' : 'default base'}: ${error.message}`);
      throw error;
    }),
  ]);
  progress({ step: 'bundle', entry: opts.entry, ms: bundle.ms, bytes: bundle.code.length });
  progress({ step: 'base', reference: baseRef, digest: base.manifestDigest, platform: base.platform });

  const docker = usesDockerMediaTypes(base);
  const layer = appLayer(bundle.code, docker, opts.files);
  progress({ step: 'layer', digest: layer.digest, size: layer.size });
  const { user } = await chooseUser(
    baseClient,
    base,
    baseRef === DEFAULT_NODE_BASE ? DEFAULT_NODE_BASE_USER : undefined,
    join(opts.projectDir, '.berth', 'images', 'base-users.json'),
  );
  if (!user)
    progress({ step: 'log', text: `base ${baseRef} has no non-root user (node or uid 1000): runs as root` });
  const config = configBlob(
    imageConfig(base.config, {
      jobName: opts.jobName,
      entry: opts.entry,
      layer,
      user,
      ...(opts.env ? { env: opts.env } : {}),
    }),
    docker,
  );
  const manifest = imageManifest(base, config, layer);
  const digest = sha256Digest(manifest.data);
  const tag = imageContentTag(opts.jobName, digest);

  const baseLayers = base.manifest.layers;
  const layers: LayerResult[] = [];
  let bytesUploaded = 0;

  if (!target) {
    const dir = join(opts.projectDir, '.berth', 'images');
    const layout = new OciLayout(dir);
    for (const l of baseLayers) {
      const uploaded = !layout.has(l.digest);
      if (uploaded) layout.put(l.digest, await baseClient.getBlob(base.repository, l.digest));
      layers.push({ digest: l.digest, size: l.size, mediaType: l.mediaType, uploaded });
      progress({ step: 'upload', digest: l.digest, size: l.size, uploaded });
    }
    const appUploaded = layout.put(layer.digest, layer.data);
    layers.push({
      digest: layer.digest,
      size: layer.size,
      mediaType: layer.mediaType,
      uploaded: appUploaded,
    });
    progress({ step: 'upload', digest: layer.digest, size: layer.size, uploaded: appUploaded });
    layout.put(config.digest, config.data);
    layout.put(digest, manifest.data);
    layout.tag({ mediaType: manifest.mediaType, digest, size: manifest.data.length }, tag);
    const shown = relative(process.cwd(), dir) || '.';
    progress({ step: 'manifest', reference: `oci:${shown}:${tag}` });
    return { reference: `oci:${dir}@${digest}`, digest, tag, layers, bytesUploaded: 0 };
  }

  const client = clientFor(clients, target.registry, target);
  const repo = target.repository;
  const sent0 = client.stats.blobBytesSent;

  // Every blob at once (4 at a time): HEAD first; a missing base layer is mounted from the base's repository
  // (same registry) or copied; the app layer and the config are uploaded when the registry lacks them.
  type Job = { digest: string; size: number; mediaType: string; base: boolean; data?: Buffer };
  const jobs: Job[] = [
    ...baseLayers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType, base: true })),
    { digest: layer.digest, size: layer.size, mediaType: layer.mediaType, base: false, data: layer.data },
    { digest: config.digest, size: config.size, mediaType: config.mediaType, base: false, data: config.data },
  ];
  const sent = await mapLimit(jobs, 4, async (blob): Promise<boolean> => {
    if (await client.hasBlob(repo, blob.digest)) return false;
    if (blob.data) {
      await client.uploadBlob(repo, blob.digest, blob.data);
      return true;
    }
    if (sameRegistry && (await client.mountBlob(repo, blob.digest, base.repository))) return false;
    await client.uploadBlob(repo, blob.digest, await baseClient.getBlob(base.repository, blob.digest));
    return true;
  });
  for (const [i, blob] of jobs.slice(0, -1).entries()) {
    const uploaded = sent[i] === true;
    layers.push({ digest: blob.digest, size: blob.size, mediaType: blob.mediaType, uploaded });
    progress({ step: 'upload', digest: blob.digest, size: blob.size, uploaded });
  }
  // Tags are immutable: an existing tag must already name this very manifest.
  const existing = await client.headManifest(repo, tag);
  if (existing && existing !== digest)
    throw new ImageBuildError(
      `${target.registry}/${repo}:${tag} already names ${existing}, not ${digest} — tags are immutable; this should not happen for a content tag`,
    );
  if (!existing) await client.putManifest(repo, tag, manifest.mediaType, manifest.data);
  bytesUploaded = client.stats.blobBytesSent - sent0;
  const reference = `${target.registry}/${repo}@${digest}`;
  progress({ step: 'manifest', reference });
  return { reference, digest, tag, layers, bytesUploaded };
}
