/**
 * The credential of a running `berth dev`: an access key id and secret generated at each start, written to
 * `.berth/credentials` in the AWS shared-credentials format (profile `berth-dev`, mode 0600). The engine's
 * SQS and worker endpoints accept only requests signed with it (SigV4, see `sigv4.ts`), so only processes
 * that can read the project folder can send messages or take them. Any AWS SDK finds it with
 * `AWS_SHARED_CREDENTIALS_FILE=.berth/credentials AWS_PROFILE=berth-dev`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DevPaths } from './paths.js';

export const CREDENTIALS_PROFILE = 'berth-dev';
/** AWS access key ids are 20 upper-case letters and digits; `BRTH` marks berth's local ones. */
const KEY_ID_PREFIX = 'BRTH';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export interface DevCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export function credentialsFile(paths: Pick<DevPaths, 'dir'>): string {
  return join(paths.dir, 'credentials');
}

/** A fresh key id (20 characters, like AWS's) and a 40-character secret. */
export function generateCredentials(): DevCredentials {
  const id = [...randomBytes(16)].map((b) => BASE32[b % 32]).join('');
  return {
    accessKeyId: `${KEY_ID_PREFIX}${id}`,
    secretAccessKey: randomBytes(30).toString('base64').replace(/\+/g, 'x').replace(/\//g, 'y'),
  };
}

/** The file's text: one `[berth-dev]` profile, as `~/.aws/credentials` has them. */
export function credentialsIni(credentials: DevCredentials): string {
  return [
    '# Written by berth dev at each start; valid while that engine runs. Keep it out of version control.',
    '# Use it: AWS_SHARED_CREDENTIALS_FILE=.berth/credentials AWS_PROFILE=berth-dev',
    `[${CREDENTIALS_PROFILE}]`,
    `aws_access_key_id = ${credentials.accessKeyId}`,
    `aws_secret_access_key = ${credentials.secretAccessKey}`,
    '',
  ].join('\n');
}

/**
 * Writes `.berth/credentials` readable by the owner only (0600): a temporary file created with that mode,
 * then renamed over the old one, so the secret is never readable by others, not even for a moment.
 */
export function writeCredentialsFile(file: string, credentials: DevCredentials): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, credentialsIni(credentials), { mode: 0o600 });
    chmodSync(temp, 0o600); // an existing temp file keeps its mode; the umask may have narrowed it anyway
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Reads the `berth-dev` profile of a shared-credentials file; undefined when the file or profile is missing. */
export function readCredentialsFile(file: string): DevCredentials | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let section = '';
  const values: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      section = header[1] as string;
      continue;
    }
    const eq = line.indexOf('=');
    if (section === CREDENTIALS_PROFILE && eq > 0) {
      values[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
  }
  const accessKeyId = values.aws_access_key_id;
  const secretAccessKey = values.aws_secret_access_key;
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined;
}

/** Environment for a process of the engine's (a service worker): any AWS SDK in it signs with these. */
export function credentialsEnv(credentials: DevCredentials): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  };
}
