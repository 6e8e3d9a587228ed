/**
 * The base image: the default (an official Node image pinned by digest — the ONE place it is named), the
 * platform pick from a multi-arch index, and the non-root user the app runs as.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  isIndexMediaType,
  MEDIA,
  ociArchitecture,
  parseImageReference,
} from './reference.js';
import type { RegistryClient } from './registry.js';
import { findInTar } from './tar.js';
import { ImageBuildError, type TaskArchitecture } from './types.js';

/**
 * The default base of `task.build.entry` jobs: Docker's official `node:22-alpine` through ECR Public (no
 * Docker Hub rate limit), pinned by the digest of its multi-arch index (linux/amd64 + linux/arm64; ECR
 * Public's docker/library mirror serves the same index digest as Docker Hub). Bump it here only, after
 * `skopeo inspect --raw docker://public.ecr.aws/docker/library/node:22-alpine` shows the new index;
 * `berth image build` prints the base it used.
 */
export const DEFAULT_NODE_BASE =
  'public.ecr.aws/docker/library/node:22-alpine@sha256:0a7108bf6c7bf5de370ffb1a3ed6be93d405b43ff159f681a8d18c0e2bc2e402';

/**
 * The official Node images create `node` as uid/gid 1000 (docker-node: `adduser -u 1000 -G node node`),
 * so the default base needs no layer scan to find it.
 */
export const DEFAULT_NODE_BASE_USER = '1000:1000';

export interface ResolvedBase {
  /** The reference as given (or the default). */
  reference: string;
  registry: string;
  repository: string;
  /** Digest of the single-platform manifest picked. */
  manifestDigest: string;
  /** Digest of the index it came from, when the reference was an index. */
  indexDigest?: string;
  manifestMediaType: string;
  manifest: ImageManifest;
  config: ImageConfig;
  /** `linux/arm64`. */
  platform: string;
}

/** The parts of an OCI/Docker image config berth reads or writes (others are kept as they are). */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    [key: string]: unknown;
  } | null;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
  [key: string]: unknown;
}

function platformOf(d: Descriptor): string {
  const p = d.platform;
  return p ? `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}` : '(no platform)';
}

/**
 * Fetches the base's manifest for `architecture`: from an index, the linux entry whose architecture matches
 * (arm64 prefers variant v8 or none); from a single manifest, its config must match.
 */
export async function resolveBase(
  client: RegistryClient,
  reference: string,
  architecture: TaskArchitecture,
): Promise<ResolvedBase> {
  const ref = parseImageReference(reference);
  const arch = ociArchitecture(architecture);
  const top = await client.getManifest(ref.repository, ref.digest ?? ref.tag ?? 'latest');
  let manifestBytes = top;
  let indexDigest: string | undefined;
  if (isIndexMediaType(top.mediaType) || Array.isArray((top.json as { manifests?: unknown }).manifests)) {
    indexDigest = top.digest;
    const index = top.json as unknown as ImageIndex;
    const candidates = index.manifests.filter(
      (m) => m.platform?.os === 'linux' && m.platform.architecture === arch,
    );
    const pick = candidates.find((m) => !m.platform?.variant || m.platform.variant === 'v8') ?? candidates[0];
    if (!pick) {
      const offered = index.manifests
        .filter((m) => m.platform && m.platform.architecture !== 'unknown')
        .map(platformOf);
      throw new ImageBuildError(
        `base image ${reference} has no linux/${arch} image for task.architecture '${architecture}' — it offers ${offered.join(', ') || 'no platforms'}; pick another task.architecture or a base (task.build.base) built for linux/${arch}`,
      );
    }
    manifestBytes = await client.getManifest(ref.repository, pick.digest);
  }
  const manifest = manifestBytes.json as unknown as ImageManifest;
  if (!manifest.config || !Array.isArray(manifest.layers))
    throw new ImageBuildError(`base image ${reference}: ${manifestBytes.mediaType} is not an image manifest`);
  const configBytes = await client.getBlob(ref.repository, manifest.config.digest);
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  if (config.architecture && config.architecture !== arch)
    throw new ImageBuildError(
      `base image ${reference} is built for ${config.os ?? 'linux'}/${config.architecture}, not linux/${arch} (task.architecture '${architecture}') — use a multi-arch base or set task.architecture to match`,
    );
  if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids))
    throw new ImageBuildError(`base image ${reference}: its config has no rootfs.diff_ids`);
  return {
    reference,
    registry: ref.registry,
    repository: ref.repository,
    manifestDigest: manifestBytes.digest,
    ...(indexDigest ? { indexDigest } : {}),
    manifestMediaType: manifest.mediaType ?? manifestBytes.mediaType ?? MEDIA.ociManifest,
    manifest,
    config,
    platform: `${config.os ?? 'linux'}/${config.architecture ?? arch}${config.variant ? `/${config.variant}` : ''}`,
  };
}

const ROOT_USERS = new Set(['', '0', 'root', '0:0', 'root:root', 'root:0', '0:root']);

/** `uid:gid` of `node`, else of uid 1000, from an /etc/passwd text; undefined when neither is there. */
export function nonRootUserFromPasswd(passwd: string): string | undefined {
  const rows = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 4);
  const row = rows.find((f) => f[0] === 'node') ?? rows.find((f) => f[2] === '1000');
  return row ? `${row[2]}:${row[3]}` : undefined;
}

/** Users found per base manifest (`registry/repository@digest`): a base is scanned once per process. */
const userCache = new Map<string, string | undefined>();

/** Forgets the users found in this process (tests). */
export function forgetBaseUsers(): void {
  userCache.clear();
}

/**
 * The users found, kept on disk (`.berth/images/base-users.json`): a base's layers are downloaded to read
 * /etc/passwd once per project, not on every build. `null` records a base with root only.
 */
function readDiskCache(file: string | undefined): Record<string, string | null> {
  if (!file || !existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string | null>;
  } catch {
    return {};
  }
}

function writeDiskCache(file: string | undefined, key: string, user: string | undefined): void {
  if (!file) return;
  try {
    const next = { ...readDiskCache(file), [key]: user ?? null };
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
    renameSync(tmp, file);
  } catch {
    // a cache only: a read-only project still builds
  }
}

/**
 * The user the app runs as: the base's own `User` when it is already non-root; else `node` (or uid 1000)
 * from the top-most layer holding /etc/passwd; else undefined (the base allows only root).
 */
export async function chooseUser(
  client: RegistryClient,
  base: ResolvedBase,
  known?: string,
  cacheFile?: string,
): Promise<{ user: string | undefined; from: 'base config' | 'passwd' | 'default base' | 'none' }> {
  const current = base.config.config?.User ?? '';
  if (!ROOT_USERS.has(current)) return { user: current, from: 'base config' };
  if (known) return { user: known, from: 'default base' };
  const key = `${base.registry}/${base.repository}@${base.manifestDigest}`;
  if (!userCache.has(key)) {
    const disk = readDiskCache(cacheFile)[key];
    if (disk !== undefined) userCache.set(key, disk ?? undefined);
  }
  if (userCache.has(key)) {
    const user = userCache.get(key);
    return { user, from: user ? 'passwd' : 'none' };
  }
  const found = await userFromLayers(client, base);
  userCache.set(key, found);
  writeDiskCache(cacheFile, key, found);
  return { user: found, from: found ? 'passwd' : 'none' };
}

async function userFromLayers(client: RegistryClient, base: ResolvedBase): Promise<string | undefined> {
  for (const layer of [...base.manifest.layers].reverse()) {
    const gzip = layer.mediaType.endsWith('gzip');
    if (!gzip && !layer.mediaType.endsWith('.tar') && !layer.mediaType.endsWith('tar')) continue; // zstd etc.
    const hit = await findInTar(await client.streamBlob(base.repository, layer.digest), 'etc/passwd', gzip);
    if (!hit) continue;
    if (!hit.data) return undefined; // whited out
    return nonRootUserFromPasswd(hit.data.toString('utf8'));
  }
  return undefined;
}
