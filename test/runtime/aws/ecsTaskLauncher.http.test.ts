/** The launcher against a real HTTP connection on 127.0.0.1: the SDK's own error shapes, no client mock. */
import { createServer, type RequestListener, type Server } from 'node:http';
import { ECSClient } from '@aws-sdk/client-ecs';
import { afterEach, describe, expect, it } from 'vitest';
import { EcsTaskLauncher } from '../../../src/runtime/aws/ecsTaskLauncher.js';
import type { LaunchRequest } from '../../../src/runtime/ports.js';
import { manifest, thumbnail } from './support.js';

const job = thumbnail();
const request: LaunchRequest = {
  job,
  run: { runId: 'r0123456789abcdefghjk' } as LaunchRequest['run'],
  attempt: 1,
  environment: { BERTH_JOB: 'thumbnail' },
  capacity: 'FARGATE',
  clientToken: 'r0123456789abcdefghjk-1',
  startedBy: 'berth/r0123456789abcdefghjk',
};

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function launcherAgainst(handler: RequestListener) {
  const s = createServer(handler);
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  const ecs = new ECSClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  return new EcsTaskLauncher(ecs, {
    cluster: 'berth-demo',
    manifest: manifest([job]),
    network: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: false },
  });
}

describe('EcsTaskLauncher over HTTP', () => {
  it('a connection reset before any response is throttled (RunTask may have run), not a failed attempt', async () => {
    const launcher = await launcherAgainst((req) => req.socket.destroy());
    await expect(launcher.launch(request)).resolves.toMatchObject({
      ok: false,
      kind: 'throttled',
      reason: /no response/,
    });
  });

  it('a 400 InvalidParameterException stays a failed launch', async () => {
    const launcher = await launcherAgainst((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'InvalidParameterException', message: 'subnet-1 not found' }));
    });
    await expect(launcher.launch(request)).resolves.toMatchObject({
      ok: false,
      kind: 'failed',
      reason: /InvalidParameterException/,
    });
  });
});
