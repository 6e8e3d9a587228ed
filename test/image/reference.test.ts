/** Image references, transport choice (plain HTTP only for loopback or --insecure), env merge, passwd users. */
import { describe, expect, it } from 'vitest';
import { imageContentTag, mergeEnv } from '../../src/image/assemble.js';
import { DEFAULT_NODE_BASE, nonRootUserFromPasswd } from '../../src/image/base.js';
import {
  isLoopbackRegistry,
  ociArchitecture,
  parseImageReference,
  parsePushTarget,
} from '../../src/image/reference.js';
import { RegistryClient } from '../../src/image/registry.js';

describe('parseImageReference', () => {
  it('reads registry, repository, tag and digest, with Docker Hub defaults', () => {
    expect(parseImageReference('node:22-alpine')).toEqual({
      registry: 'registry-1.docker.io',
      repository: 'library/node',
      tag: '22-alpine',
    });
    expect(parseImageReference('127.0.0.1:5000/berth/thumbnail:t@sha256:' + 'a'.repeat(64))).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'berth/thumbnail',
      tag: 't',
      digest: `sha256:${'a'.repeat(64)}`,
    });
    expect(parseImageReference('localhost/app').registry).toBe('localhost');
    expect(parseImageReference('docker.io/bitnami/redis').registry).toBe('registry-1.docker.io');
    expect(() => parseImageReference('x@sha256:123')).toThrow(/sha256:<64 hex digits>/);
    expect(() => parseImageReference('127.0.0.1:5000/Upper')).toThrow(/not a valid repository name/);
  });

  it('pins the default base by digest, in one place', () => {
    const ref = parseImageReference(DEFAULT_NODE_BASE);
    expect(ref).toMatchObject({
      registry: 'public.ecr.aws',
      repository: 'docker/library/node',
      tag: '22-alpine',
    });
    expect(ref.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
  });

  it('takes --push as <registry>/<repository> only', () => {
    expect(parsePushTarget('127.0.0.1:5000/berth/thumbnail')).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'berth/thumbnail',
    });
    expect(() => parsePushTarget('127.0.0.1:5000/berth/thumbnail:latest')).toThrow(/without a tag or digest/);
  });
});

describe('transport', () => {
  it('speaks plain HTTP to loopback registries and with --insecure, TLS to every other', () => {
    expect(isLoopbackRegistry('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackRegistry('localhost:5000')).toBe(true);
    expect(isLoopbackRegistry('[::1]:5000')).toBe(true);
    expect(isLoopbackRegistry('127.0.0.1.nip.io:5000')).toBe(false);
    expect(new RegistryClient({ registry: '127.0.0.1:5000' }).baseUrl).toBe('http://127.0.0.1:5000');
    expect(new RegistryClient({ registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' }).baseUrl).toBe(
      'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    );
    expect(new RegistryClient({ registry: 'registry.internal:5000', insecure: true }).baseUrl).toBe(
      'http://registry.internal:5000',
    );
  });
});

describe('config pieces', () => {
  it('maps task.architecture to OCI architectures and refuses others', () => {
    expect(ociArchitecture('x86_64')).toBe('amd64');
    expect(ociArchitecture('arm64')).toBe('arm64');
    expect(() => ociArchitecture('riscv64')).toThrow(/task\.architecture: unknown architecture "riscv64"/);
  });

  it('merges env over the base, keeping its order', () => {
    expect(mergeEnv(['PATH=/bin', 'A=1'], { B: '2', A: 'x' })).toEqual(['PATH=/bin', 'A=x', 'B=2']);
  });

  it('finds node (or uid 1000) in /etc/passwd', () => {
    expect(nonRootUserFromPasswd('root:x:0:0::/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n')).toBe(
      '1000:1000',
    );
    expect(nonRootUserFromPasswd('root:x:0:0::/root:/bin/sh\napp:x:1000:2000::/app:/bin/sh\n')).toBe(
      '1000:2000',
    );
    expect(nonRootUserFromPasswd('root:x:0:0::/root:/bin/sh\n')).toBeUndefined();
  });

  it('tags by content: <job>-<12 hex of the manifest digest>', () => {
    expect(imageContentTag('thumbnail', `sha256:${'ab'.repeat(32)}`)).toBe('thumbnail-abababababab');
  });
});
