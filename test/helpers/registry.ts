/**
 * Starts a real OCI registry — Debian's `docker-registry` (CNCF Distribution 2.8) — on a free 127.0.0.1 port
 * with filesystem storage in a temp dir, for one test file, and stops it afterwards. Never skipped: without
 * the binary the test fails and says how to install it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServerProcess } from './serverProcess.js';

export const REGISTRY_BINARY = process.env.BERTH_DOCKER_REGISTRY ?? '/usr/bin/docker-registry';

export interface LocalRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * `htpasswd`: a bcrypt htpasswd file's text; the registry then demands Basic auth (realm `berth-test`), as
 * ECR does with the credentials of GetAuthorizationToken.
 */
export async function startRegistry(
  options: {
    htpasswd?: string;
    /** Token auth (Bearer): the registry trusts JWTs signed by the key of `rootCertPem`. */
    token?: { realm: string; service: string; issuer: string; rootCertPem: string };
    timeoutMs?: number;
  } = {},
): Promise<LocalRegistry> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!existsSync(REGISTRY_BINARY))
    throw new Error(
      `this test needs a real OCI registry: ${REGISTRY_BINARY} is missing — install it with apt-get install docker-registry (Debian's CNCF Distribution)`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    ...(options.htpasswd
      ? ['auth:', '  htpasswd:', '    realm: berth-test', `    path: ${join(dir, 'htpasswd')}`]
      : []),
    ...(options.token
      ? [
          'auth:',
          '  token:',
          `    realm: ${options.token.realm}`,
          `    service: ${options.token.service}`,
          `    issuer: ${options.token.issuer}`,
          `    rootcertbundle: ${join(dir, 'token-root.pem')}`,
        ]
      : []),
    '',
  ].join('\n');
  if (options.token) writeFileSync(join(dir, 'token-root.pem'), options.token.rootCertPem);
  if (options.htpasswd) writeFileSync(join(dir, 'htpasswd'), options.htpasswd);
  writeFileSync(join(dir, 'config.yml'), config);
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  const server = await startServerProcess({
    name: 'docker-registry',
    command: REGISTRY_BINARY,
    args: ['serve', join(dir, 'config.yml')],
    env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' },
    probeUrl: `${url}/v2/`,
    ready: (status) => status === 200 || (Boolean(options.htpasswd || options.token) && status === 401),
    timeoutMs,
    pollMs: 50,
  });
  return {
    host,
    url,
    dir,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
