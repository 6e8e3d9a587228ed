/**
 * The image builder's interface (issue 11). `buildNodeImage` builds a `task.build.entry` job's image with no
 * daemon: esbuild bundle → ONE reproducible app layer on top of the base image's layers → pushed through the
 * OCI distribution API. `buildDockerfileImage` hands a `task.build.dockerfile` job to the first builder that
 * works (`docker buildx`, `podman`, `buildah`).
 */
import { BerthError } from '../core/errors.js';

/** `task.architecture` → OCI platform architecture. */
export type TaskArchitecture = 'x86_64' | 'arm64';

/** Credentials for a registry; ECR gives basic auth from GetAuthorizationToken (`AWS:<password>`). */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** Where an image goes: `<registry>/<repository>`, e.g. `127.0.0.1:5000/berth/thumbnail`. */
export interface RegistryTarget {
  /** Host[:port], e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com` or `127.0.0.1:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `berth-orders-dev` or `berth/thumbnail`. */
  repository: string;
  /** Plain HTTP / no TLS check. Always true for 127.0.0.1 and localhost; otherwise off unless asked. */
  insecure?: boolean;
  /** Called once per registry host when it asks for credentials (401). Absent → anonymous only. */
  credentials?: (registry: string) => Promise<RegistryCredentials | undefined>;
}

/** Progress events, for a spinner or one line per step. */
export type BuildProgress =
  | { step: 'bundle'; entry: string; ms: number; bytes: number }
  | { step: 'base'; reference: string; digest: string; platform: string }
  | { step: 'layer'; digest: string; size: number }
  | { step: 'upload'; digest: string; size: number; uploaded: boolean }
  | { step: 'manifest'; reference: string }
  | { step: 'builder'; name: 'docker buildx' | 'podman' | 'buildah'; command: string }
  | { step: 'log'; text: string };

export interface LayerResult {
  /** `sha256:…` of the compressed layer blob. */
  digest: string;
  size: number;
  mediaType: string;
  /** True when this build sent the blob; false when the registry already had it. */
  uploaded: boolean;
}

export interface BuildNodeImageOptions {
  /** Project root; the entry and `berth/task` are resolved from here. */
  projectDir: string;
  jobName: string;
  /** The task's entry, relative to projectDir (`tasks/thumbnail.ts`). */
  entry: string;
  /** Base image reference (tag or digest). Default: `DEFAULT_NODE_BASE` in src/image/base.ts. */
  base?: string;
  /** Credentials / TLS for the base's registry (when it differs from the target). */
  baseRegistry?: Pick<RegistryTarget, 'insecure' | 'credentials'>;
  architecture: TaskArchitecture;
  /** Push target. Absent → written to an OCI layout under `<projectDir>/.berth/images/<job>/`. */
  target?: RegistryTarget;
  /** Already bundled code for /app/index.mjs (then `entry` only names it); the console image uses this. */
  code?: Uint8Array;
  /** Files beside the bundle, relative to /app (e.g. `assets/dashboard.css`, read via `import.meta.url`). */
  files?: { path: string; data: Uint8Array }[];
  /** Extra image env (`task.environment` stays in the task definition; this is for image-level env). */
  env?: Record<string, string>;
  onProgress?: (event: BuildProgress) => void;
}

export interface BuildResult {
  /** `<registry>/<repository>@sha256:…` (or `oci:<dir>@sha256:…` for a local layout). */
  reference: string;
  /** `sha256:…` of the image manifest. */
  digest: string;
  /** `<job>-<content hash>`: the immutable tag also pushed. */
  tag: string;
  /** Every layer, base first, app layer last. */
  layers: LayerResult[];
  /** Sum of the blob bytes (layers + config) this build actually sent. */
  bytesUploaded: number;
}

export interface BuildDockerfileImageOptions {
  projectDir: string;
  jobName: string;
  /** Dockerfile path relative to projectDir. */
  dockerfile: string;
  /** Build context relative to projectDir (default: the Dockerfile's folder). */
  context?: string;
  architecture: TaskArchitecture;
  target: RegistryTarget;
  onProgress?: (event: BuildProgress) => void;
}

/** Thrown for every image error: the message names the file/field/registry and the fix. */
export class ImageBuildError extends BerthError {
  override name = 'ImageBuildError';
}

/*
 * Entry points (implemented in src/image/index.ts):
 *   buildNodeImage(opts: BuildNodeImageOptions): Promise<BuildResult>
 *   buildDockerfileImage(opts: BuildDockerfileImageOptions): Promise<BuildResult>
 *   findImageBuilder(): Promise<{ name; command } | undefined>  // first working docker buildx / podman / buildah
 *   imageContentTag(jobName, inputsHash): string               // `<job>-<12 hex>`
 *   parseImageReference(ref): { registry, repository, tag?, digest? }
 */
export type BuildNodeImage = (opts: BuildNodeImageOptions) => Promise<BuildResult>;
export type BuildDockerfileImage = (opts: BuildDockerfileImageOptions) => Promise<BuildResult>;
