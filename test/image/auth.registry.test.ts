/**
 * A registry that demands credentials (Basic, as ECR does with GetAuthorizationToken's `AWS:<token>`): the
 * build answers the challenge through the credentials hook, and fails clearly without it.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNodeImage } from '../../src/image/build.js';
import { RegistryClient } from '../../src/image/registry.js';
import { type LocalRegistry, startRegistry } from '../helpers/registry.js';
import { makeProject } from './support.js';

// bcrypt (cost 4) of the throwaway test password below.
const HTPASSWD = 'AWS:$2b$04$XGiEv72uFBy4TeLl1V/49Ol1g9T3afwkj8dxZkGTMDB93O9azjCYq\n';
const credentials = { username: 'AWS', password: 'berth-test-password' };

let registry: LocalRegistry;
let project: string;

beforeAll(async () => {
  registry = await startRegistry({ htpasswd: HTPASSWD });
  project = makeProject('authenticated');
});

afterAll(async () => {
  await registry?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('registry credentials', { timeout: 90_000 }, () => {
  it('answers a Basic challenge with the credentials hook, once per registry', async () => {
    // The base lives behind the same auth (pushed with the credentials too).
    const { pushTinyBase } = await import('./baseImage.js');
    const calls: string[] = [];
    const hook = async (host: string) => {
      calls.push(host);
      return credentials;
    };
    const base = await pushTinyBase(registry.host, {
      repository: 'base/node',
      tag: 'tiny',
      architectures: ['amd64'],
      client: new RegistryClient({ registry: registry.host, credentials: hook }),
    });
    calls.length = 0;
    const result = await buildNodeImage({
      projectDir: project,
      jobName: 'hello',
      entry: 'tasks/hello.ts',
      base: base.reference,
      architecture: 'x86_64',
      target: { registry: registry.host, repository: 'apps/hello', credentials: hook },
    });
    expect(result.reference).toMatch(/@sha256:/);
    expect(calls).toEqual([registry.host]);
    const anonymous = await fetch(`${registry.url}/v2/apps/hello/manifests/${result.digest}`);
    expect(anonymous.status).toBe(401);
  });

  it('without credentials says the registry asks for them and how to give them', async () => {
    await expect(
      buildNodeImage({
        projectDir: project,
        jobName: 'hello',
        entry: 'tasks/hello.ts',
        base: `${registry.host}/base/node:tiny`,
        architecture: 'x86_64',
        target: { registry: registry.host, repository: 'apps/hello' },
      }),
    ).rejects.toThrow(/asks for credentials \(Basic\) and none were given .*BERTH_REGISTRY_USERNAME/);
    const wrong = new RegistryClient({
      registry: registry.host,
      credentials: async () => ({ username: 'AWS', password: 'wrong' }),
    });
    await expect(wrong.getManifest('base/node', 'tiny')).rejects.toThrow(
      /answered 401 .*check the registry credentials/,
    );
  });
});
