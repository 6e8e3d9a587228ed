/**
 * Pushes an image from a local OCI layout (what `docker buildx`, `podman` and `buildah` export) through the
 * same client as `buildNodeImage`: blobs the registry has are skipped, the manifest goes under the content
 * tag `<job>-<hash>`, the result is pinned by digest.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageContentTag } from './assemble.js';
import type { Descriptor, ImageIndex, ImageManifest } from './reference.js';
import { isIndexMediaType, MEDIA } from './reference.js';
import { RegistryClient, sha256Digest } from './registry.js';
import {
  type BuildProgress,
  type BuildResult,
  ImageBuildError,
  type LayerResult,
  type RegistryTarget,
} from './types.js';

function readBlob(dir: string, digest: string): Buffer {
  const data = readFileSync(join(dir, 'blobs', ...digest.split(':')));
  if (sha256Digest(data) !== digest)
    throw new ImageBuildError(`${dir}: blob ${digest} does not match its digest`);
  return data;
}

/** The image manifest of an OCI layout: the entry named `tag`, else the only entry (through an index if needed). */
export function readLayoutManifest(
  dir: string,
  tag?: string,
): { descriptor: Descriptor; data: Buffer; manifest: ImageManifest } {
  let index: ImageIndex;
  try {
    index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as ImageIndex;
  } catch (error) {
    throw new ImageBuildError(`${dir}: not an OCI image layout (index.json: ${(error as Error).message})`);
  }
  const entries = tag
    ? index.manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)
    : index.manifests;
  let descriptor = entries[entries.length - 1];
  if (!descriptor) throw new ImageBuildError(`${dir}: no image${tag ? ` tagged ${tag}` : ''} in index.json`);
  let data = readBlob(dir, descriptor.digest);
  while (isIndexMediaType(descriptor.mediaType)) {
    const inner = (JSON.parse(data.toString('utf8')) as ImageIndex).manifests.find(
      (m) => m.mediaType !== 'unknown',
    );
    if (!inner) throw new ImageBuildError(`${dir}: index ${descriptor.digest} holds no image`);
    descriptor = inner;
    data = readBlob(dir, descriptor.digest);
  }
  return { descriptor, data, manifest: JSON.parse(data.toString('utf8')) as ImageManifest };
}

export async function pushLayout(options: {
  dir: string;
  tag?: string;
  jobName: string;
  target: RegistryTarget;
  client?: RegistryClient;
  onProgress?: (event: BuildProgress) => void;
}): Promise<BuildResult> {
  const { dir, target } = options;
  const progress = options.onProgress ?? (() => {});
  const client =
    options.client ??
    new RegistryClient({
      registry: target.registry,
      ...(target.insecure ? { insecure: true } : {}),
      ...(target.credentials ? { credentials: target.credentials } : {}),
    });
  const { descriptor, data, manifest } = readLayoutManifest(dir, options.tag);
  const repo = target.repository;
  const sent0 = client.stats.blobBytesSent;
  const layers: LayerResult[] = [];
  for (const blob of [...manifest.layers, manifest.config]) {
    const uploaded = !(await client.hasBlob(repo, blob.digest));
    if (uploaded) await client.uploadBlob(repo, blob.digest, readBlob(dir, blob.digest));
    if (blob !== manifest.config) {
      layers.push({ digest: blob.digest, size: blob.size, mediaType: blob.mediaType, uploaded });
      progress({ step: 'upload', digest: blob.digest, size: blob.size, uploaded });
    }
  }
  const digest = descriptor.digest;
  const tag = imageContentTag(options.jobName, digest);
  const existing = await client.headManifest(repo, tag);
  if (existing && existing !== digest)
    throw new ImageBuildError(
      `${target.registry}/${repo}:${tag} already names ${existing}, not ${digest} (tags are immutable)`,
    );
  if (!existing)
    await client.putManifest(
      repo,
      tag,
      manifest.mediaType ?? descriptor.mediaType ?? MEDIA.ociManifest,
      data,
    );
  const reference = `${target.registry}/${repo}@${digest}`;
  progress({ step: 'manifest', reference });
  return { reference, digest, tag, layers, bytesUploaded: client.stats.blobBytesSent - sent0 };
}
