/**
 * Starts moto server on a free 127.0.0.1 port for one test file and stops it afterwards (SIGTERM, SIGKILL
 * after 5 s). Fails loudly when python3 or moto is missing (`pip install "moto[server]"`): a tier that
 * needs it is never skipped silently.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * moto server answering one request at a time. moto's default server is threaded and its backends take no
 * locks, so two concurrent conditional writes (DynamoDB PutItem with a condition, TransactWriteItems) can both
 * pass their condition, which DynamoDB itself never allows. Tests of races between concurrent writers use this.
 */
const SERIAL_MOTO = [
  'import os, sys',
  'from werkzeug.serving import run_simple',
  'from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app',
  'os.environ.setdefault("MOTO_PORT", sys.argv[1])',
  'run_simple("127.0.0.1", int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)',
].join('\n');

export async function startMoto(
  timeoutMs = 60_000,
  options: { serialized?: boolean } = {},
): Promise<MotoServer> {
  const check = spawnSync('python3', ['-c', 'import moto.server, flask; print(moto.__version__)'], {
    encoding: 'utf8',
  });
  if (check.error || check.status !== 0) {
    throw new Error(
      `this test tier needs moto server: ${check.error?.message ?? check.stderr.trim()} — install it with pip install "moto[server]"`,
    );
  }
  const port = await freePort();
  const args = options.serialized
    ? ['-c', SERIAL_MOTO, String(port)]
    : ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)];
  const child: ChildProcess = spawn('python3', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto server exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto server did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** EC2 Query API call (moto does not check signatures), for the default VPC's subnets and groups. */
export async function ec2Ids(endpoint: string, action: string, tag: string): Promise<string[]> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization:
        'AWS4-HMAC-SHA256 Credential=testing/20260301/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=x',
    },
    body: `Action=${action}&Version=2016-11-15`,
  });
  const xml = await res.text();
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]+)</${tag}>`, 'g'))].map((m) => m[1] as string);
}
