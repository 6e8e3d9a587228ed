/**
 * Starts moto server on a free 127.0.0.1 port for one test file and stops it afterwards (SIGTERM, SIGKILL
 * after 5 s). Fails loudly when python3 or moto is missing (`pip install "moto[server]"`): a tier that
 * needs it is never skipped silently.
 */
import { spawnSync } from 'node:child_process';
import { freePort, startServerProcess } from '../../helpers/serverProcess.js';

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
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
  const endpoint = `http://127.0.0.1:${port}`;
  const server = await startServerProcess({
    name: 'moto server',
    command: 'python3',
    args,
    probeUrl: `${endpoint}/moto-api/`,
    ready: (status) => status >= 200 && status < 300,
    timeoutMs,
    pollMs: 150,
  });
  return { endpoint, stop: server.stop };
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
