/** A throwaway project with one task entry that uses `berth/task`, and helpers to read pushed images. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageConfig } from '../../src/image/base.js';
import type { ImageManifest } from '../../src/image/reference.js';
import { RegistryClient } from '../../src/image/registry.js';

export function taskSource(greeting: string): string {
  return [
    "import { attempt, getTrigger, jobName } from 'berth/task';",
    "const trigger = await getTrigger<'s3'>();",
    `console.log(JSON.stringify({ greeting: ${JSON.stringify(greeting)}, job: jobName(), attempt: attempt(), bucket: trigger.bucket, key: trigger.key }));`,
    '',
  ].join('\n');
}

export function makeProject(greeting = 'hello v1'): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-image-project-'));
  mkdirSync(join(dir, 'tasks'), { recursive: true });
  writeFileSync(join(dir, 'tasks', 'hello.ts'), taskSource(greeting));
  return dir;
}

export async function readImage(
  host: string,
  repository: string,
  reference: string,
): Promise<{ manifest: ImageManifest; config: ImageConfig; client: RegistryClient }> {
  const client = new RegistryClient({ registry: host });
  const m = await client.getManifest(repository, reference);
  const manifest = m.json as unknown as ImageManifest;
  const config = JSON.parse(
    (await client.getBlob(repository, manifest.config.digest)).toString('utf8'),
  ) as ImageConfig;
  return { manifest, config, client };
}

export function skopeoInspect(args: string[]): Record<string, unknown> {
  const out = execFileSync('skopeo', ['inspect', ...args], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out) as Record<string, unknown>;
}
