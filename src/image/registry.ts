/**
 * A small OCI distribution client on `fetch`: manifests (GET/HEAD/PUT), blobs (HEAD, GET, upload by
 * POST → PATCH → PUT as Docker does, cross-repository mount), and the auth challenges of real registries
 * (`WWW-Authenticate: Bearer realm=…` → token, `Basic` → the credentials hook; ECR answers Basic and takes
 * `AWS:<token>` from GetAuthorizationToken). A registry on 127.0.0.1/localhost is spoken to over plain
 * HTTP; any other over HTTPS, with `insecure` meaning plain HTTP too (no TLS at all, like Docker's
 * insecure-registries).
 */
import { createHash } from 'node:crypto';
import { isLoopbackRegistry, MANIFEST_ACCEPT } from './reference.js';
import { ImageBuildError, type RegistryCredentials } from './types.js';

export interface RegistryClientOptions {
  registry: string;
  insecure?: boolean;
  credentials?: (registry: string) => Promise<RegistryCredentials | undefined>;
  /** Per request, default 60 s (blob transfers: 10 min). */
  timeoutMs?: number;
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  json: Record<string, unknown>;
}

/** Counts what went over the wire; tests and the bench read it. */
export interface RegistryStats {
  requests: number;
  blobBytesSent: number;
  blobBytesReceived: number;
}

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)="([^"]*)"/g;
  for (let m = re.exec(header); m; m = re.exec(header)) params[m[1] as string] = m[2] as string;
  return { scheme, params };
}

export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  readonly stats: RegistryStats = { requests: 0, blobBytesSent: 0, blobBytesReceived: 0 };
  private readonly credentials: RegistryClientOptions['credentials'];
  private readonly timeoutMs: number;
  /** Authorization header per challenge scope (Bearer) or for the host (Basic). */
  private readonly auth = new Map<string, string>();
  private basic: string | undefined;
  private creds: Promise<RegistryCredentials | undefined> | undefined;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    const plain = isLoopbackRegistry(options.registry) || options.insecure === true;
    this.baseUrl = `${plain ? 'http' : 'https'}://${options.registry}`;
    this.credentials = options.credentials;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  private getCredentials(): Promise<RegistryCredentials | undefined> {
    this.creds ??= this.credentials ? this.credentials(this.registry) : Promise.resolve(undefined);
    return this.creds;
  }

  private authKey(repository: string | undefined): string {
    return repository ?? '';
  }

  /** One request with the auth dance: on 401, answer the challenge once and retry. */
  async request(
    method: string,
    pathOrUrl: string,
    init: {
      headers?: Record<string, string>;
      body?: Uint8Array;
      repository?: string;
      timeoutMs?: number;
    } = {},
  ): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const send = async (): Promise<Response> => {
      const headers: Record<string, string> = { ...init.headers };
      const authorization = this.auth.get(this.authKey(init.repository)) ?? this.basic;
      if (authorization) headers.authorization = authorization;
      this.stats.requests++;
      try {
        return await fetch(url, {
          method,
          headers,
          ...(init.body ? { body: init.body as unknown as BodyInit } : {}),
          redirect: 'follow',
          signal: AbortSignal.timeout(init.timeoutMs ?? this.timeoutMs),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new ImageBuildError(
          `${this.registry}: ${method} ${new URL(url).pathname} failed — ${cause?.code ?? ''} ${cause?.message ?? (error as Error).message}`.trim() +
            (this.baseUrl.startsWith('https') && /EPROTO|SSL|certificate/i.test(String(cause?.message))
              ? ' (a registry without TLS needs --insecure)'
              : /ENOTFOUND|ECONNREFUSED|EAI_AGAIN|ETIMEDOUT|ENETUNREACH/.test(String(cause?.code))
                ? ' — check the registry address and that this machine can reach it'
                : ''),
        );
      }
    };
    let res = await send();
    if (res.status !== 401) return res;
    const header = res.headers.get('www-authenticate');
    await res.body?.cancel();
    if (!header) return res;
    await this.answerChallenge(header, init.repository);
    res = await send();
    return res;
  }

  private async answerChallenge(header: string, repository: string | undefined): Promise<void> {
    const { scheme, params } = parseChallenge(header);
    const creds = await this.getCredentials();
    const basic = creds
      ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`
      : undefined;
    if (scheme === 'basic') {
      if (!basic)
        throw new ImageBuildError(
          `${this.registry} asks for credentials (Basic) and none were given — for ECR berth gets them from GetAuthorizationToken; for another registry set BERTH_REGISTRY_USERNAME and BERTH_REGISTRY_PASSWORD`,
        );
      this.basic = basic;
      return;
    }
    if (scheme !== 'bearer' || !params.realm)
      throw new ImageBuildError(`${this.registry}: unsupported auth challenge "${header}"`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    if (params.scope) for (const s of params.scope.split(' ')) url.searchParams.append('scope', s);
    const res = await fetch(url, {
      headers: basic ? { authorization: basic } : {},
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok)
      throw new ImageBuildError(
        `${this.registry}: the token service ${url.origin}${url.pathname} answered ${res.status} — ${(await res.text()).slice(0, 200)}`,
      );
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new ImageBuildError(`${this.registry}: the token service gave no token`);
    this.auth.set(this.authKey(repository), `Bearer ${token}`);
  }

  private async fail(res: Response, what: string): Promise<never> {
    const text = await res.text().catch(() => '');
    let detail = text.slice(0, 300);
    try {
      const errors = (JSON.parse(text) as { errors?: { code: string; message: string }[] }).errors;
      if (errors?.length) detail = errors.map((e) => `${e.code}: ${e.message}`).join('; ');
    } catch {
      // not JSON
    }
    const hint =
      res.status === 401 || res.status === 403
        ? ' (check the registry credentials and that they may push to this repository)'
        : '';
    throw new ImageBuildError(`${this.registry}: ${what} answered ${res.status} ${detail}${hint}`.trim());
  }

  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const res = await this.request('GET', `/v2/${repository}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
      repository,
    });
    if (res.status === 404)
      throw new ImageBuildError(`${this.registry}/${repository}:${reference} was not found in the registry`);
    if (!res.ok) await this.fail(res, `GET manifest ${repository}:${reference}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && reference !== digest)
      throw new ImageBuildError(
        `${this.registry}/${repository}@${reference}: the registry returned content with digest ${digest}`,
      );
    const json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    const mediaType =
      (json.mediaType as string | undefined) ?? res.headers.get('content-type')?.split(';')[0] ?? '';
    return { mediaType, digest, bytes, json };
  }

  /** Digest of the manifest at `reference`, or undefined when there is none. */
  async headManifest(repository: string, reference: string): Promise<string | undefined> {
    const res = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
      repository,
    });
    if (res.status === 404) return undefined;
    if (!res.ok) await this.fail(res, `HEAD manifest ${repository}:${reference}`);
    return res.headers.get('docker-content-digest') ?? undefined;
  }

  async putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
  ): Promise<string> {
    const res = await this.request('PUT', `/v2/${repository}/manifests/${reference}`, {
      headers: { 'content-type': mediaType },
      body: bytes,
      repository,
    });
    if (!res.ok) await this.fail(res, `PUT manifest ${repository}:${reference}`);
    await res.body?.cancel();
    const digest = sha256Digest(bytes);
    const returned = res.headers.get('docker-content-digest');
    if (returned && returned !== digest)
      throw new ImageBuildError(`${this.registry}: manifest stored as ${returned}, expected ${digest}`);
    return digest;
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${repository}/blobs/${digest}`, { repository });
    await res.body?.cancel();
    if (res.status === 404) return false;
    if (!res.ok) await this.fail(res, `HEAD blob ${digest}`);
    return true;
  }

  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const res = await this.request('GET', `/v2/${repository}/blobs/${digest}`, {
      repository,
      timeoutMs: 600_000,
    });
    if (!res.ok) await this.fail(res, `GET blob ${repository}@${digest}`);
    const data = Buffer.from(await res.arrayBuffer());
    this.stats.blobBytesReceived += data.length;
    if (sha256Digest(data) !== digest)
      throw new ImageBuildError(`${this.registry}/${repository}: blob ${digest} arrived with another digest`);
    return data;
  }

  /** The blob as a byte stream (for reading a big layer without holding it). */
  async streamBlob(repository: string, digest: string): Promise<AsyncIterable<Uint8Array>> {
    const res = await this.request('GET', `/v2/${repository}/blobs/${digest}`, {
      repository,
      timeoutMs: 600_000,
    });
    if (!res.ok || !res.body) return this.fail(res, `GET blob ${repository}@${digest}`);
    const stats = this.stats;
    const body = res.body;
    return (async function* () {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        stats.blobBytesReceived += chunk.length;
        yield chunk;
      }
    })();
  }

  /**
   * Mounts `digest` from `fromRepository` of the same registry. True when mounted; false when the registry
   * started an ordinary upload instead (that upload is cancelled).
   */
  async mountBlob(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    const q = new URLSearchParams({ mount: digest, from: fromRepository });
    const res = await this.request('POST', `/v2/${repository}/blobs/uploads/?${q}`, { repository });
    await res.body?.cancel();
    if (res.status === 201) return true;
    if (res.status === 202) {
      const location = res.headers.get('location');
      if (location) {
        const cancel = await this.request('DELETE', this.resolve(location), { repository });
        await cancel.body?.cancel();
      }
      return false;
    }
    if (res.status === 404 || res.status === 405) return false;
    return this.fail(res, `mount ${digest} from ${fromRepository}`);
  }

  private resolve(location: string): string {
    return new URL(location, `${this.baseUrl}/`).toString();
  }

  /** Uploads a blob: POST (start) → PATCH (the bytes) → PUT ?digest= (commit). */
  async uploadBlob(repository: string, digest: string, data: Buffer): Promise<void> {
    const start = await this.request('POST', `/v2/${repository}/blobs/uploads/`, { repository });
    await start.body?.cancel();
    if (start.status !== 202) await this.fail(start, `start upload of ${digest}`);
    let location = start.headers.get('location');
    if (!location) throw new ImageBuildError(`${this.registry}: upload start gave no Location`);
    const patch = await this.request('PATCH', this.resolve(location), {
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `0-${Math.max(0, data.length - 1)}`,
      },
      body: data,
      repository,
      timeoutMs: 600_000,
    });
    await patch.body?.cancel();
    if (patch.status !== 202 && patch.status !== 204) await this.fail(patch, `upload of ${digest}`);
    location = patch.headers.get('location') ?? location;
    const url = new URL(this.resolve(location));
    url.searchParams.set('digest', digest);
    const put = await this.request('PUT', url.toString(), {
      headers: { 'content-type': 'application/octet-stream', 'content-length': '0' },
      repository,
    });
    await put.body?.cancel();
    if (put.status !== 201) await this.fail(put, `commit of ${digest}`);
    this.stats.blobBytesSent += data.length;
  }
}
