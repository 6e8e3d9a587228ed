/**
 * A registry with token auth, as Docker Hub and ECR Public (the default base's registry) use: a 401 names a
 * token realm and scope; the client fetches a Bearer token (anonymously, or with Basic credentials when it has
 * them) and retries. The registry is the real one; the token service is a small HTTP server signing JWTs with
 * a key whose certificate the registry trusts.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNodeImage } from '../../src/image/build.js';
import { RegistryClient } from '../../src/image/registry.js';
import { type LocalRegistry, startRegistry } from '../helpers/registry.js';
import { pushTinyBase } from './baseImage.js';
import { makeProject } from './support.js';

const SERVICE = 'berth-test-registry';
const ISSUER = 'berth-test-issuer';
let registry: LocalRegistry;
let tokens: Server;
let project: string;
const keyDir = mkdtempSync(join(tmpdir(), 'berth-token-'));
const requests: { scopes: string[]; basic: boolean }[] = [];

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** libtrust's key id (what distribution matches a JWT's `kid` against): base32 of sha256(DER)[:30], 4-char groups. */
function libtrustKeyId(publicDer: Buffer): string {
  const hash = createHash('sha256').update(publicDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of hash) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return (out.match(/.{4}/g) ?? []).join(':');
}

beforeAll(async () => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=berth-test-token',
      '-keyout',
      join(keyDir, 'key.pem'),
      '-out',
      join(keyDir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const key = createPrivateKey(readFileSync(join(keyDir, 'key.pem')));
  const kid = libtrustKeyId(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  tokens = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    // The registry names a scope's actions in no fixed order (pull,push or push,pull): record them sorted.
    const scopes = url.searchParams
      .getAll('scope')
      .map((s) => s.replace(/:([^:]*)$/, (_m, actions: string) => `:${actions.split(',').sort().join(',')}`));
    requests.push({ scopes, basic: (req.headers.authorization ?? '').startsWith('Basic ') });
    const now = Math.floor(Date.now() / 1000);
    const access = scopes.map((s) => {
      const [type, name, actions] = s.split(':');
      return { type, name, actions: (actions ?? '').split(',') };
    });
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid }));
    const claims = b64url(
      JSON.stringify({
        iss: ISSUER,
        sub: 'berth',
        aud: SERVICE,
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomUUID(),
        access,
      }),
    );
    const signature = sign('RSA-SHA256', Buffer.from(`${header}.${claims}`), key).toString('base64url');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ token: `${header}.${claims}.${signature}` }));
  });
  await new Promise<void>((r) => tokens.listen(0, '127.0.0.1', r));
  const port = (tokens.address() as AddressInfo).port;
  registry = await startRegistry({
    token: {
      realm: `http://127.0.0.1:${port}/token`,
      service: SERVICE,
      issuer: ISSUER,
      rootCertPem: readFileSync(join(keyDir, 'cert.pem'), 'utf8'),
    },
  });
  project = makeProject('token');
});

afterAll(async () => {
  await registry?.stop();
  await new Promise((r) => tokens?.close(r));
  rmSync(keyDir, { recursive: true, force: true });
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('token auth (Bearer)', { timeout: 90_000 }, () => {
  it('fetches a token for the scope the registry names, then builds and pushes', async () => {
    const anonymous = new RegistryClient({ registry: registry.host });
    const base = await pushTinyBase(registry.host, {
      repository: 'base/node',
      tag: 'tiny',
      architectures: ['amd64', 'arm64'],
      client: anonymous,
    });
    expect(requests.some((r) => r.scopes.includes('repository:base/node:pull,push'))).toBe(true);
    expect(requests.every((r) => !r.basic)).toBe(true); // anonymous tokens, as ECR Public gives

    requests.length = 0;
    const result = await buildNodeImage({
      projectDir: project,
      jobName: 'hello',
      entry: 'tasks/hello.ts',
      base: base.reference,
      architecture: 'arm64',
      target: {
        registry: registry.host,
        repository: 'apps/hello',
        credentials: async () => ({ username: 'ci', password: 'test-password' }),
      },
    });
    expect(result.layers[0]?.digest).toBe(base.platforms.arm64?.layer);
    // Basic credentials go to the token service, never to the registry itself.
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.basic)).toBe(true);
    expect(requests.flatMap((r) => r.scopes)).toContain('repository:apps/hello:pull,push');
    const status = (await fetch(`${registry.url}/v2/apps/hello/manifests/${result.digest}`)).status;
    expect(status).toBe(401);
  });
});
