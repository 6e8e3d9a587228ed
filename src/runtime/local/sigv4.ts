/**
 * SigV4 for the engine's SQS and worker endpoints, with AWS's own signer (`@smithy/signature-v4`, the one
 * every AWS SDK for JavaScript signs with): the engine recomputes the signature over the request it received
 * — the headers the client signed, the path, the query and the body — and compares it in constant time.
 * Like AWS: the date must be within 15 minutes of the engine's clock, the key id must be the engine's, and
 * the service in the credential scope must be `sqs` (any region is accepted: SDKs sign with theirs).
 *
 * `signRequest` is the client side, for berth's own callers (the CLI, tests, benches).
 */
import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SignatureV4 as SignatureV4Type } from '@smithy/signature-v4';
import type { DevCredentials } from './credentials.js';

/**
 * The signer, loaded on first use: every CLI command loads the engine's modules, and the signer's import
 * (~250 ms on a busy machine) must not be paid by commands that never sign or verify.
 */
let signerClass: Promise<typeof SignatureV4Type> | undefined;
function loadSigner(): Promise<typeof SignatureV4Type> {
  signerClass ??= import('@smithy/signature-v4').then((m) => m.SignatureV4);
  return signerClass;
}

/** How far a request's X-Amz-Date may be from the engine's clock (AWS: 15 minutes). */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;
export const SIGNING_SERVICE = 'sqs';

type Bytes = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: Bytes): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the signer asks for. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: Bytes) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: Bytes): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

/** Why a request is refused, as AWS answers it: HTTP status, error code, message. */
export interface AuthFailure {
  status: number;
  code: string;
  message: string;
}

export interface ReceivedRequest {
  method: string;
  /** The request target as received: `/path?query`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const AUTH_RE =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})\s*$/;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** `20261128T101500Z` → Date, or undefined when malformed. */
function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function decodePath(path: string): string {
  try {
    return path
      .split('/')
      .map((s) => decodeURIComponent(s))
      .join('/');
  } catch {
    return path;
  }
}

/**
 * Verifies the request's SigV4 `Authorization` header against the engine's credential. Undefined when it
 * is good; else the AWS-shaped refusal.
 */
export async function verifySigV4(
  req: ReceivedRequest,
  credentials: DevCredentials,
  now: Date = new Date(),
): Promise<AuthFailure | undefined> {
  const authorization = header(req.headers, 'authorization');
  if (authorization === undefined || authorization === '') {
    return {
      status: 403,
      code: 'MissingAuthenticationToken',
      message:
        'The request must be signed (SigV4) with the berth dev credential: AWS_SHARED_CREDENTIALS_FILE=.berth/credentials AWS_PROFILE=berth-dev',
    };
  }
  const m = AUTH_RE.exec(authorization);
  if (!m) {
    return {
      status: 400,
      code: 'IncompleteSignature',
      message: `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters (AWS4-HMAC-SHA256). Authorization=${authorization.slice(0, 200)}`,
    };
  }
  const [, keyId, shortDate, region, service, signedHeaderList, signature] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const a = Buffer.from(keyId);
  const b = Buffer.from(credentials.accessKeyId);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    return {
      status: 403,
      code: 'InvalidClientTokenId',
      message:
        'The security token included in the request is invalid: berth dev makes a new credential at each start — read it again from .berth/credentials (profile berth-dev)',
    };
  }
  const amzDate = header(req.headers, 'x-amz-date');
  const signedAt = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!signedAt) {
    return {
      status: 400,
      code: 'IncompleteSignature',
      message: 'The request must carry a valid X-Amz-Date header (yyyyMMddTHHmmssZ).',
    };
  }
  if (amzDate?.slice(0, 8) !== shortDate) {
    return {
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: `Credential should be scoped to a valid date: ${shortDate} is not the date of X-Amz-Date ${amzDate}.`,
    };
  }
  if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_CLOCK_SKEW_MS) {
    return {
      status: 400,
      code: 'RequestExpired',
      message: `Signature expired: ${amzDate} is more than 15 minutes from the engine's clock (${now.toISOString()}).`,
    };
  }
  if (service !== SIGNING_SERVICE) {
    return {
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: `Credential should be scoped to the service '${SIGNING_SERVICE}', not '${service}'.`,
    };
  }
  const signed = signedHeaderList.split(';');
  if (!signed.includes('host')) {
    return {
      status: 400,
      code: 'IncompleteSignature',
      message: 'The signed headers must include host.',
    };
  }
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = header(req.headers, name);
    if (value === undefined) {
      return {
        status: 400,
        code: 'IncompleteSignature',
        message: `The signed header ${name} is not in the request.`,
      };
    }
    headers[name] = value;
  }
  // The signer trusts a stated payload hash; the engine checks it against the body it received.
  const stated = headers['x-amz-content-sha256'];
  if (stated !== undefined && stated !== createHash('sha256').update(req.body).digest('hex')) {
    return {
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: 'The provided x-amz-content-sha256 header does not match what was computed.',
    };
  }
  const url = new URL(req.url, 'http://127.0.0.1');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const SignatureV4 = await loadSigner();
  const signer = new SignatureV4({
    credentials,
    region,
    service,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const expected = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: headers.host ?? '',
      path: decodePath(url.pathname),
      query,
      headers,
      body: req.body,
    },
    { signingDate: signedAt, signableHeaders: new Set(signed) },
  );
  const want = /Signature=([0-9a-f]{64})$/.exec(String(expected.headers.authorization))?.[1] ?? '';
  const given = Buffer.from(signature);
  if (want.length !== given.length || !timingSafeEqual(Buffer.from(want), given)) {
    return {
      status: 403,
      code: 'SignatureDoesNotMatch',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return undefined;
}

/**
 * Signs a request for the engine's SQS endpoint (berth's own callers). Returns the headers to send,
 * `authorization` and `x-amz-date` included.
 */
export async function signRequest(input: {
  credentials: DevCredentials;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  region?: string;
  date?: Date;
}): Promise<Record<string, string>> {
  const url = new URL(input.url);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const SignatureV4 = await loadSigner();
  const signer = new SignatureV4({
    credentials: input.credentials,
    region: input.region ?? 'us-east-1',
    service: SIGNING_SERVICE,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: input.method ?? 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { host: url.host, ...lowerKeys(input.headers ?? {}) },
      body: input.body,
    },
    input.date ? { signingDate: input.date } : {},
  );
  return signed.headers as Record<string, string>;
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}
