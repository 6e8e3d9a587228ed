/**
 * Pure image assembly: the app layer (one reproducible tar+gzip holding /app/index.mjs), the new config
 * (entrypoint, working dir, env, user, rootfs and history) and the manifest on top of the base's.
 */
import type { ImageConfig, ResolvedBase } from './base.js';
import { type Descriptor, type ImageManifest, MEDIA } from './reference.js';
import { sha256Digest } from './registry.js';
import { createTar, gzipReproducible } from './tar.js';

export const APP_DIR = '/app';
export const APP_FILE = '/app/index.mjs';
/** Every time berth writes into an image: the epoch, so builds never depend on the clock. */
export const EPOCH = '1970-01-01T00:00:00Z';

export interface Blob {
  digest: string;
  size: number;
  mediaType: string;
  data: Buffer;
}

export interface AppLayer extends Blob {
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
}

/** A file the app layer carries beside the bundle, relative to /app (`assets/dashboard.css`). */
export interface AppFile {
  path: string;
  data: Uint8Array;
}

export function appLayer(
  code: Uint8Array,
  dockerMediaTypes: boolean,
  files: readonly AppFile[] = [],
): AppLayer {
  for (const f of files)
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(f.path) || f.path.split('/').includes('..'))
      throw new Error(`app file ${f.path}: not a plain relative path under ${APP_DIR}`);
  const tar = createTar([
    { path: APP_FILE.slice(1), type: 'file', mode: 0o644, data: code },
    ...files.map((f) => ({
      path: `${APP_DIR.slice(1)}/${f.path}`,
      type: 'file' as const,
      mode: 0o644,
      data: f.data,
    })),
  ]);
  const gz = gzipReproducible(tar);
  return {
    digest: sha256Digest(gz),
    size: gz.length,
    mediaType: dockerMediaTypes ? MEDIA.dockerLayerGzip : MEDIA.ociLayerGzip,
    data: gz,
    diffId: sha256Digest(tar),
  };
}

export interface ConfigInput {
  jobName: string;
  entry: string;
  layer: AppLayer;
  user: string | undefined;
  env?: Record<string, string>;
}

/** Base env (`K=V` list) with `env` merged over it; base order kept, new keys appended sorted. */
export function mergeEnv(base: readonly string[] | undefined, env: Record<string, string> = {}): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const line of base ?? []) {
    const key = line.slice(0, line.indexOf('=') === -1 ? line.length : line.indexOf('='));
    seen.add(key);
    out.push(key in env ? `${key}=${env[key]}` : line);
  }
  for (const key of Object.keys(env).sort()) if (!seen.has(key)) out.push(`${key}=${env[key]}`);
  return out;
}

export function imageConfig(base: ImageConfig, input: ConfigInput): ImageConfig {
  const baseInner = base.config ?? {};
  const { Cmd: _cmd, ...inner } = baseInner;
  const config: ImageConfig['config'] = {
    ...inner,
    Env: mergeEnv(baseInner.Env, input.env),
    Entrypoint: ['node', APP_FILE],
    WorkingDir: APP_DIR,
    Labels: { ...(baseInner.Labels ?? {}), 'dev.berth.job': input.jobName },
  };
  if (input.user) config.User = input.user;
  return {
    ...base,
    created: EPOCH,
    config,
    rootfs: { type: 'layers', diff_ids: [...base.rootfs.diff_ids, input.layer.diffId] },
    history: [
      ...(base.history ?? []),
      {
        created: EPOCH,
        created_by: `berth image build ${input.jobName}: ${input.entry} → ${APP_FILE}`,
        comment: 'berth',
      },
    ],
  };
}

export function configBlob(config: ImageConfig, dockerMediaTypes: boolean): Blob {
  const data = Buffer.from(JSON.stringify(config));
  return {
    digest: sha256Digest(data),
    size: data.length,
    mediaType: dockerMediaTypes ? MEDIA.dockerConfig : MEDIA.ociConfig,
    data,
  };
}

export function usesDockerMediaTypes(base: ResolvedBase): boolean {
  return base.manifestMediaType === MEDIA.dockerManifest;
}

export function imageManifest(
  base: ResolvedBase,
  config: Blob,
  layer: AppLayer,
): { mediaType: string; data: Buffer } {
  const docker = usesDockerMediaTypes(base);
  const mediaType = docker ? MEDIA.dockerManifest : MEDIA.ociManifest;
  const describe = (b: { mediaType: string; digest: string; size: number }): Descriptor => ({
    mediaType: b.mediaType,
    digest: b.digest,
    size: b.size,
  });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType,
    config: describe(config),
    layers: [...base.manifest.layers.map(describe), describe(layer)],
    ...(docker
      ? {}
      : {
          annotations: {
            'org.opencontainers.image.base.name': base.reference,
            'org.opencontainers.image.base.digest': base.indexDigest ?? base.manifestDigest,
          },
        }),
  };
  return { mediaType, data: Buffer.from(JSON.stringify(manifest)) };
}

/** `<job>-<first 12 hex of the manifest digest>`: a content-addressed, immutable tag. */
export function imageContentTag(jobName: string, manifestDigest: string): string {
  const tag = `${jobName}-${manifestDigest.replace(/^sha256:/, '').slice(0, 12)}`;
  return tag.slice(0, 128);
}
