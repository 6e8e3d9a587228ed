import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: temporary projects live under it so `import { defineJob } from 'berth'` resolves. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Writes a throw-away project under `.tmp/` (git-ignored) and returns its root. */
export function makeProject(label: string, files: Record<string, string>): string {
  const root = join(REPO_ROOT, '.tmp', `${label}-${randomUUID().slice(0, 8)}`);
  for (const [path, text] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  mkdirSync(join(root, 'jobs'), { recursive: true });
  return root;
}

export function removeProject(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

/** Source of a job file that default-exports `defineJob(<definition>)`; the definition is written as JSON. */
export function jobFile(definition: unknown): string {
  return `import { defineJob } from 'berth';\n\nexport default defineJob(${JSON.stringify(definition, null, 2)});\n`;
}

/** A minimal valid definition. */
export function validJob(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, task: { image: 'public.ecr.aws/docker/library/node:22-alpine' }, ...extra };
}
