/**
 * A fake ECS endpoint on 127.0.0.1 that enforces Fargate's task launch rate: a token bucket of 100 burst,
 * refilled at 20 per second, answering `ThrottlingException` beyond it (AWS JSON 1.1, as the SDK expects).
 * Like ECS, a repeated `clientToken` returns the task it started before and takes no token.
 */
import { createServer, type Server } from 'node:http';

export interface FakeEcs {
  endpoint: string;
  /** Distinct tasks started, by `startedBy`. */
  tasksByStartedBy: Map<string, Set<string>>;
  stats: { calls: number; throttled: number; started: number; replayedTokens: number };
  close(): Promise<void>;
}

export async function startFakeEcs(
  options: { burst?: number; refillPerSecond?: number } = {},
): Promise<FakeEcs> {
  const burst = options.burst ?? 100;
  const refill = options.refillPerSecond ?? 20;
  let tokens = burst;
  let last = performance.now();
  const byToken = new Map<string, string>();
  const tasksByStartedBy = new Map<string, Set<string>>();
  const stats = { calls: 0, throttled: 0, started: 0, replayedTokens: 0 };
  let seq = 0;

  const take = (): boolean => {
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * refill);
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const send = (status: number, body: unknown) => {
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': String(++seq),
        });
        res.end(JSON.stringify(body));
      };
      if (!target.endsWith('.RunTask'))
        return send(400, { __type: 'InvalidParameterException', message: target });
      stats.calls++;
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        clientToken?: string;
        startedBy?: string;
        taskDefinition?: string;
      };
      const replay = input.clientToken ? byToken.get(input.clientToken) : undefined;
      if (replay) {
        stats.replayedTokens++;
        return send(200, { tasks: [{ taskArn: replay, lastStatus: 'PROVISIONING' }], failures: [] });
      }
      if (!take()) {
        stats.throttled++;
        return send(400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
      }
      const taskArn = `arn:aws:ecs:us-east-1:123456789012:task/bench/${(++seq).toString(16).padStart(32, '0')}`;
      if (input.clientToken) byToken.set(input.clientToken, taskArn);
      const started = tasksByStartedBy.get(input.startedBy ?? '') ?? new Set<string>();
      started.add(taskArn);
      tasksByStartedBy.set(input.startedBy ?? '', started);
      stats.started++;
      send(200, {
        tasks: [
          {
            taskArn,
            startedBy: input.startedBy,
            lastStatus: 'PROVISIONING',
            capacityProviderName: 'FARGATE',
          },
        ],
        failures: [],
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    tasksByStartedBy,
    stats,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
