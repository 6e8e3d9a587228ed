/**
 * A local OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
 * `oci-layout`, `index.json` and `blobs/sha256/…`. `berth image build` without `--push` writes here
 * (`.berth/images/`), one entry per tag, readable with `skopeo inspect oci:.berth/images:<tag>`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Descriptor } from './reference.js';
import { MEDIA } from './reference.js';

export class OciLayout {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    const marker = join(dir, 'oci-layout');
    if (!existsSync(marker)) writeFileSync(marker, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  }

  blobPath(digest: string): string {
    return join(this.dir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
  }

  has(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  /** Writes a blob (atomically); false when it was already there. */
  put(digest: string, data: Uint8Array): boolean {
    const path = this.blobPath(digest);
    if (existsSync(path)) return false;
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, path);
    return true;
  }

  /** Adds (or replaces) the index entry named `tag`. */
  tag(descriptor: Descriptor, tag: string): void {
    const file = join(this.dir, 'index.json');
    const index = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as { manifests: Descriptor[] })
      : { manifests: [] };
    const manifests = index.manifests.filter(
      (m) => m.annotations?.['org.opencontainers.image.ref.name'] !== tag,
    );
    manifests.push({ ...descriptor, annotations: { 'org.opencontainers.image.ref.name': tag } });
    const next = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
    renameSync(tmp, file);
  }
}
