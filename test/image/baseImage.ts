/**
 * Builds tiny base images for the image tests and pushes them to the local registry: a root filesystem layer
 * (etc/passwd, plus a per-architecture marker file so amd64 and arm64 differ), an image config per platform,
 * and (optionally) a multi-arch OCI index. Nothing is pulled from the internet.
 */

import { MEDIA } from '../../src/image/reference.js';
import { RegistryClient, sha256Digest } from '../../src/image/registry.js';
import { createTar, gzipReproducible } from '../../src/image/tar.js';

export const PASSWD_WITH_NODE =
  'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:Linux User,,,:/home/node:/bin/sh\n';
export const PASSWD_ROOT_ONLY = 'root:x:0:0:root:/root:/bin/sh\n';

export interface TinyBaseOptions {
  repository: string;
  tag: string;
  architectures: ('amd64' | 'arm64')[];
  /** Push a multi-arch index (true) or, for one architecture, just its manifest (false). */
  index?: boolean;
  passwd?: string;
  user?: string;
  docker?: boolean;
  /** A client with credentials, for a registry that demands them. */
  client?: RegistryClient;
}

export interface TinyBase {
  reference: string;
  /** Digest of the top-level manifest (index or single). */
  digest: string;
  /** Per architecture: the manifest digest and its rootfs layer digest. */
  platforms: Record<string, { manifest: string; layer: string }>;
}

export async function pushTinyBase(host: string, options: TinyBaseOptions): Promise<TinyBase> {
  const client = options.client ?? new RegistryClient({ registry: host });
  const repo = options.repository;
  const docker = options.docker === true;
  const platforms: TinyBase['platforms'] = {};
  const descriptors: Record<string, unknown>[] = [];
  let single: { mediaType: string; data: Buffer } | undefined;
  for (const arch of options.architectures) {
    const tar = createTar([
      { path: 'etc/passwd', type: 'file', data: Buffer.from(options.passwd ?? PASSWD_WITH_NODE) },
      { path: `etc/berth-base-arch`, type: 'file', data: Buffer.from(`${arch}\n`) },
      { path: 'usr/local/bin', type: 'dir' },
    ]);
    const layer = gzipReproducible(tar);
    const config = Buffer.from(
      JSON.stringify({
        architecture: arch,
        os: 'linux',
        created: '2025-01-01T00:00:00Z',
        config: {
          Env: [
            'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
            'NODE_VERSION=22.0.0-tiny',
          ],
          Entrypoint: ['docker-entrypoint.sh'],
          Cmd: ['node'],
          ...(options.user ? { User: options.user } : {}),
        },
        rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
        history: [{ created: '2025-01-01T00:00:00Z', created_by: 'tiny rootfs for berth tests' }],
      }),
    );
    const layerDigest = sha256Digest(layer);
    await client.uploadBlob(repo, layerDigest, layer);
    await client.uploadBlob(repo, sha256Digest(config), config);
    const mediaType = docker ? MEDIA.dockerManifest : MEDIA.ociManifest;
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType,
        config: {
          mediaType: docker ? MEDIA.dockerConfig : MEDIA.ociConfig,
          digest: sha256Digest(config),
          size: config.length,
        },
        layers: [
          {
            mediaType: docker ? MEDIA.dockerLayerGzip : MEDIA.ociLayerGzip,
            digest: layerDigest,
            size: layer.length,
          },
        ],
      }),
    );
    const digest = await client.putManifest(repo, sha256Digest(manifest), mediaType, manifest);
    platforms[arch] = { manifest: digest, layer: layerDigest };
    descriptors.push({
      mediaType,
      digest,
      size: manifest.length,
      platform: { architecture: arch, os: 'linux', ...(arch === 'arm64' ? { variant: 'v8' } : {}) },
    });
    single = { mediaType, data: manifest };
  }
  let top: { mediaType: string; data: Buffer };
  if (options.index !== false) {
    const mediaType = docker ? MEDIA.dockerList : MEDIA.ociIndex;
    top = {
      mediaType,
      data: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests: descriptors })),
    };
  } else {
    if (!single || options.architectures.length !== 1)
      throw new Error('a single-manifest base has one architecture');
    top = single;
  }
  const digest = await client.putManifest(repo, options.tag, top.mediaType, top.data);
  return { reference: `${host}/${repo}:${options.tag}`, digest, platforms };
}
