import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Template } from '../../src/compiler/cfn.js';

export const ROOT = resolve(import.meta.dirname, '../..');
const SERVERLESS = join(ROOT, 'node_modules/.bin/serverless');
const run = promisify(execFile);

/** Runs the real `serverless package` (osls) in `dir`, offline and without credentials. */
export async function serverlessPackage(
  dir: string,
): Promise<{ update: Template; create: Template; log: string }> {
  // No credentials at all: packaging must not need them.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE)$/.test(k),
    ),
  );
  const { stdout, stderr } = await run(SERVERLESS, ['package'], { cwd: dir, env, timeout: 180_000 });
  const read = (f: string) => JSON.parse(readFileSync(join(dir, '.serverless', f), 'utf8')) as Template;
  return {
    update: read('cloudformation-template-update-stack.json'),
    create: read('cloudformation-template-create-stack.json'),
    log: stdout + stderr,
  };
}

/** A fresh folder under .tmp/ (git-ignored; `import 'berth'` resolves there by self-reference). */
export function tmpDir(name: string): string {
  const dir = join(ROOT, '.tmp', `${name}-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A generated service of `count` jobs, a third each S3, schedule and own queue. */
export function writeGeneratedService(dir: string, count: number): void {
  mkdirSync(join(dir, 'jobs'), { recursive: true });
  writeFileSync(
    join(dir, 'serverless.yml'),
    [
      'service: berth-many',
      "frameworkVersion: '4'",
      'provider:',
      '  name: aws',
      '  runtime: nodejs22.x',
      '  region: us-east-1',
      '  stage: dev',
      '  versionFunctions: false',
      'plugins:',
      '  - berth/plugin',
      'custom:',
      '  berth:',
      '    network: create',
      'package:',
      "  patterns: ['!**']",
      '',
    ].join('\n'),
  );
  for (let i = 0; i < count; i++) {
    const name = `job-${String(i).padStart(3, '0')}`;
    const trigger =
      i % 3 === 0
        ? `{ s3: { bucket: 'uploads', prefix: 'in/${name}/', suffix: '.csv' } }`
        : i % 3 === 1
          ? `{ schedule: { expression: 'cron(${i % 60} 3 * * ? *)', timezone: 'Europe/Berlin' } }`
          : '{ queue: { batchSize: 1 } }';
    writeFileSync(
      join(dir, 'jobs', `${name}.ts`),
      `import { defineJob } from 'berth';\nexport default defineJob({ name: '${name}', trigger: ${trigger}, task: { image: 'public.ecr.aws/docker/library/node:22-alpine' } });\n`,
    );
  }
}
