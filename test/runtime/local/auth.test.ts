/**
 * The engine's credential and request checks, in process: the credentials file (format, mode), SigV4
 * verification with AWS's signer (good, wrong secret, wrong key, unsigned, malformed, stale, tampered),
 * the loopback/cross-site gate, capped bodies, and malformed SQS input answered as AWS does (400, never 500).
 */

import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fromIni } from '@aws-sdk/credential-provider-ini';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BodyTooLargeError, readCappedBody } from '../../../src/runtime/local/body.js';
import {
  CREDENTIALS_PROFILE,
  generateCredentials,
  readCredentialsFile,
  writeCredentialsFile,
} from '../../../src/runtime/local/credentials.js';
import { refusalOf } from '../../../src/runtime/local/guard.js';
import { md5Hex } from '../../../src/runtime/local/queue.js';
import { signRequest, verifySigV4 } from '../../../src/runtime/local/sigv4.js';
import { handleSqsAction, parseSqsInput, SqsError } from '../../../src/runtime/local/sqs.js';
import { REPO } from './harness.js';

let dir: string;
beforeEach(() => {
  dir = join(REPO, '.tmp', `auth-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the berth dev credential', () => {
  it('is new at each start and written 0600 in the shared-credentials format the AWS SDK reads', async () => {
    const a = generateCredentials();
    const b = generateCredentials();
    expect(a.accessKeyId).toMatch(/^[A-Z2-7]{20}$/);
    expect(a.secretAccessKey).toHaveLength(40);
    expect(a.accessKeyId).not.toBe(b.accessKeyId);
    expect(a.secretAccessKey).not.toBe(b.secretAccessKey);
    const file = join(dir, 'credentials');
    writeFileSync(file, 'old', { mode: 0o644 });
    writeCredentialsFile(file, a);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain(`[${CREDENTIALS_PROFILE}]`);
    expect(readCredentialsFile(file)).toEqual(a);
    // The SDK's own INI provider (what AWS_SHARED_CREDENTIALS_FILE + AWS_PROFILE use) reads the same pair.
    const sdk = await fromIni({ profile: 'berth-dev', filepath: file, configFilepath: join(dir, 'none') })();
    expect({ accessKeyId: sdk.accessKeyId, secretAccessKey: sdk.secretAccessKey }).toEqual(a);
    expect(readCredentialsFile(join(dir, 'missing'))).toBeUndefined();
  });
});

describe('SigV4 verification', () => {
  const creds = generateCredentials();
  const url = 'http://127.0.0.1:4555/';
  const body = JSON.stringify({ QueueUrl: 'http://127.0.0.1:4555/123456789012/orders', MessageBody: 'hi' });
  const base = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' };
  const received = (headers: Record<string, string>, b = body, path = '/') => ({
    method: 'POST',
    url: path,
    headers,
    body: Buffer.from(b),
  });

  it('accepts a request signed with the credential', async () => {
    const headers = await signRequest({ credentials: creds, url, headers: base, body });
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=/);
    expect(await verifySigV4(received(headers), creds)).toBeUndefined();
    // Any region: SDKs sign with theirs.
    const eu = await signRequest({ credentials: creds, url, headers: base, body, region: 'eu-west-1' });
    expect(await verifySigV4(received(eu), creds)).toBeUndefined();
  });

  it('refuses unsigned, wrongly signed, foreign-key, malformed, stale and tampered requests', async () => {
    expect(await verifySigV4(received(base), creds)).toMatchObject({
      status: 403,
      code: 'MissingAuthenticationToken',
    });
    const wrongSecret = await signRequest({
      credentials: { ...creds, secretAccessKey: 'x'.repeat(40) },
      url,
      headers: base,
      body,
    });
    expect(await verifySigV4(received(wrongSecret), creds)).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
    const otherKey = await signRequest({ credentials: generateCredentials(), url, headers: base, body });
    expect(await verifySigV4(received(otherKey), creds)).toMatchObject({
      status: 403,
      code: 'InvalidClientTokenId',
    });
    expect(
      await verifySigV4(received({ ...base, authorization: 'AWS4-HMAC-SHA256 Credential=abc' }), creds),
    ).toMatchObject({ status: 400, code: 'IncompleteSignature' });
    const old = await signRequest({
      credentials: creds,
      url,
      headers: base,
      body,
      date: new Date(Date.now() - 16 * 60_000),
    });
    expect(await verifySigV4(received(old), creds)).toMatchObject({ status: 400, code: 'RequestExpired' });
    const future = await signRequest({
      credentials: creds,
      url,
      headers: base,
      body,
      date: new Date(Date.now() + 16 * 60_000),
    });
    expect(await verifySigV4(received(future), creds)).toMatchObject({ code: 'RequestExpired' });
    const fine = await signRequest({
      credentials: creds,
      url,
      headers: base,
      body,
      date: new Date(Date.now() - 14 * 60_000),
    });
    expect(await verifySigV4(received(fine), creds)).toBeUndefined();
    const good = await signRequest({ credentials: creds, url, headers: base, body });
    // Another body, another action, another path: each breaks the signature.
    expect(await verifySigV4(received(good, body.replace('hi', 'ho')), creds)).toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    expect(
      await verifySigV4(received({ ...good, 'x-amz-target': 'AmazonSQS.DeleteMessage' }), creds),
    ).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(await verifySigV4(received(good, body, '/other'), creds)).toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    // A stated payload hash must be the body's.
    const stated = await signRequest({
      credentials: creds,
      url,
      headers: { ...base, 'x-amz-content-sha256': 'a'.repeat(64) },
      body,
    });
    expect(await verifySigV4(received(stated), creds)).toMatchObject({ code: 'SignatureDoesNotMatch' });
  });
});

function fakeReq(headers: Record<string, string>, method = 'GET'): IncomingMessage {
  return { headers, method } as unknown as IncomingMessage;
}

describe('the gate in front of every route', () => {
  it('refuses a foreign Host (DNS rebinding) and cross-site requests, except a top-level navigation', () => {
    expect(refusalOf(fakeReq({ host: '127.0.0.1:4555' }))).toBeUndefined();
    expect(refusalOf(fakeReq({ host: 'localhost:4555' }))).toBeUndefined();
    expect(refusalOf(fakeReq({ host: 'evil.example:4555' }))?.kind).toBe('host');
    expect(refusalOf(fakeReq({}))?.kind).toBe('host');
    const host = '127.0.0.1:4555';
    expect(refusalOf(fakeReq({ host, 'sec-fetch-site': 'cross-site' }, 'POST'))?.kind).toBe('cross-site');
    expect(refusalOf(fakeReq({ host, origin: 'https://evil.example' }, 'POST'))?.kind).toBe('cross-site');
    expect(
      refusalOf(
        fakeReq({
          host,
          'sec-fetch-site': 'cross-site',
          'sec-fetch-mode': 'cors',
          'sec-fetch-dest': 'empty',
        }),
      )?.kind,
    ).toBe('cross-site');
    // A link from another site to the dashboard opens it; the other site cannot read the page.
    expect(
      refusalOf(
        fakeReq({
          host,
          'sec-fetch-site': 'cross-site',
          'sec-fetch-mode': 'navigate',
          'sec-fetch-dest': 'document',
        }),
      ),
    ).toBeUndefined();
    // …but a form POST from another site is no navigation we answer.
    expect(
      refusalOf(
        fakeReq(
          {
            host,
            'sec-fetch-site': 'cross-site',
            'sec-fetch-mode': 'navigate',
            'sec-fetch-dest': 'document',
          },
          'POST',
        ),
      )?.kind,
    ).toBe('cross-site');
  });
});

describe('capped bodies', () => {
  it('keeps at most the cap, drops the rest, and the client sends it all and reads the answer (no reset)', async () => {
    const server = createServer(async (req, res) => {
      try {
        const b = await readCappedBody(req, 1024);
        res.end(`ok ${b.length}`);
      } catch (error) {
        expect(error).toBeInstanceOf(BodyTooLargeError);
        expect((error as BodyTooLargeError).drained).toBe(true);
        res.writeHead(413).end('too large');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const post = (total: number, declareLength: boolean) =>
      new Promise<string>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            headers: declareLength ? { 'content-length': String(total) } : {},
          },
          (res) => {
            let t = '';
            res.on('data', (c) => {
              t += c;
            });
            // The whole body is sent (the server reads and drops it), then the answer is read.
            res.on('end', () => {
              const answer = `${res.statusCode} ${t}`;
              if (req.writableFinished) resolve(answer);
              else req.once('finish', () => resolve(answer));
            });
          },
        );
        req.on('error', reject);
        const chunk = Buffer.alloc(16 * 1024, 97);
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            const n = Math.min(chunk.length, total - sent);
            sent += n;
            if (!req.write(chunk.subarray(0, n))) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
    try {
      expect(await post(1000, true)).toBe('200 ok 1000');
      expect(await post(5 << 20, true)).toBe('413 too large');
      expect(await post(5 << 20, false)).toBe('413 too large');
    } finally {
      server.close();
    }
  });
});

describe('malformed SQS input is a 400, never a 500', () => {
  const backend = {
    hasQueue: (n: string) => n === 'orders' || n === 'fifo',
    isFifo: (n: string) => n === 'fifo',
    send: (_n: string, body: string) => ({ messageId: 'm', md5OfBody: md5Hex(body) }),
    stats: () => ({ visible: 0, inFlight: 0, delayed: 0, deadLetter: 0 }),
  };
  const base = 'http://127.0.0.1:1';
  const q = `${base}/123456789012/orders`;
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(SqsError);
      expect((error as SqsError).status).toBe(400);
      return (error as SqsError).type;
    }
    return 'no error';
  };

  it('refuses bodies that are not a JSON object', () => {
    for (const raw of ['null', '[]', '42', '"x"', '{not json']) {
      expect(code(() => parseSqsInput(Buffer.from(raw)))).toBe('SerializationException');
    }
    expect(parseSqsInput(Buffer.from(''))).toEqual({});
  });

  it('refuses null entries, bad ids, bad numbers and bad message attributes', () => {
    const send = (input: Record<string, unknown>) => handleSqsAction(backend, base, 'SendMessage', input);
    const batch = (Entries: unknown) =>
      handleSqsAction(backend, base, 'SendMessageBatch', { QueueUrl: q, Entries });
    expect(code(() => batch([null]))).toBe('InvalidParameterValue');
    expect(code(() => batch([{ Id: 'a', MessageBody: 'x' }, null]))).toBe('InvalidParameterValue');
    expect(code(() => batch('x'))).toBe('InvalidParameterValue');
    expect(code(() => batch([{ MessageBody: 'x' }]))).toBe('InvalidBatchEntryId');
    expect(code(() => batch([{ Id: 'a b', MessageBody: 'x' }]))).toBe('InvalidBatchEntryId');
    expect(code(() => send({ QueueUrl: q, MessageBody: 'x', DelaySeconds: 'abc' }))).toBe(
      'InvalidParameterValue',
    );
    expect(code(() => send({ QueueUrl: q, MessageBody: 'x', DelaySeconds: 1.5 }))).toBe(
      'InvalidParameterValue',
    );
    expect(code(() => send({ QueueUrl: null, MessageBody: 'x' }))).toBe('MissingParameter');
    expect(code(() => send({ QueueUrl: q, MessageBody: null }))).toBe('InvalidParameterValue');
    expect(code(() => send({ QueueUrl: q, MessageBody: 'a\u0000b' }))).toBe('InvalidMessageContents');
    for (const MessageAttributes of [
      'x',
      [1],
      { a: null },
      { a: { DataType: 'String' } },
      { a: { DataType: 'Strange', StringValue: 'x' } },
      { a: { DataType: 'Number', StringValue: 'abc' } },
      { 'AWS.x': { DataType: 'String', StringValue: 'x' } },
      { 'bad name!': { DataType: 'String', StringValue: 'x' } },
      Object.fromEntries(
        Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'x' }]),
      ),
    ]) {
      expect(code(() => send({ QueueUrl: q, MessageBody: 'x', MessageAttributes }))).toBe(
        'InvalidParameterValue',
      );
    }
    expect(
      send({
        QueueUrl: q,
        MessageBody: 'x',
        MessageAttributes: { tenant: { DataType: 'String', StringValue: 'a' } },
      }),
    ).toMatchObject({ MessageId: 'm' });
    // Attributes count toward the 1 MiB message size.
    expect(
      code(() =>
        send({
          QueueUrl: q,
          MessageBody: 'x'.repeat(1_048_000),
          MessageAttributes: { big: { DataType: 'String', StringValue: 'y'.repeat(1000) } },
        }),
      ),
    ).toBe('InvalidParameterValue');
    // FIFO: a message group is required; a deduplication id is for FIFO queues only.
    expect(code(() => send({ QueueUrl: `${base}/1/fifo`, MessageBody: 'x' }))).toBe('MissingParameter');
    expect(send({ QueueUrl: `${base}/1/fifo`, MessageBody: 'x', MessageGroupId: 'g' })).toMatchObject({
      MessageId: 'm',
    });
    expect(code(() => send({ QueueUrl: q, MessageBody: 'x', MessageDeduplicationId: 'd' }))).toBe(
      'InvalidParameterValue',
    );
  });
});
