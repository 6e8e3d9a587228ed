/**
 * A fake ECS endpoint on 127.0.0.1 (AWS JSON 1.1, as the SDK expects) that enforces both Fargate quotas a
 * launch meets (ECS developer guide, "AWS Fargate throttling quotas"; /work/shared/reference/aws-facts.md 2.4):
 * - the RunTask API: 20 calls per second, burst and sustained. Every call takes a token, a repeated
 *   `clientToken` too; without one the answer is `ThrottlingException` ("Rate exceeded", HTTP 400).
 * - the task launch bucket: 100 tasks burst, refilled at 20 per second. A call that would start a task takes
 *   one; without one the answer is `ThrottlingException` as well.
 * Like ECS, a repeated `clientToken` returns the task it started before and starts nothing. Every call is
 * counted, whatever its action or answer.
 */
import { createServer, type Server } from 'node:http';

/** Fargate's quotas per account and Region. */
export const ECS_QUOTAS = { runTaskBurst: 20, runTaskPerSecond: 20, taskBurst: 100, taskPerSecond: 20 };

export interface FakeEcsStats {
  /** Every HTTP call, by action (`RunTask`, …). */
  calls: Record<string, number>;
  /** RunTask calls answered `ThrottlingException` by the API bucket. */
  apiThrottled: number;
  /** RunTask calls answered `ThrottlingException` by the task launch bucket. */
  launchThrottled: number;
  started: number;
  replayedTokens: number;
}

export interface FakeEcs {
  endpoint: string;
  /** Distinct tasks started, by `startedBy`. */
  tasksByStartedBy: Map<string, Set<string>>;
  stats: FakeEcsStats;
  close(): Promise<void>;
}

class Bucket {
  private tokens: number;
  private last = performance.now();
  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.tokens = burst;
  }
  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }
  has(): boolean {
    this.refill();
    return this.tokens >= 1;
  }
  take(): void {
    this.tokens -= 1;
  }
}

export async function startFakeEcs(options: Partial<typeof ECS_QUOTAS> = {}): Promise<FakeEcs> {
  const quotas = { ...ECS_QUOTAS, ...options };
  const api = new Bucket(quotas.runTaskBurst, quotas.runTaskPerSecond);
  const launches = new Bucket(quotas.taskBurst, quotas.taskPerSecond);
  const byToken = new Map<string, string>();
  const tasksByStartedBy = new Map<string, Set<string>>();
  const stats: FakeEcsStats = {
    calls: {},
    apiThrottled: 0,
    launchThrottled: 0,
    started: 0,
    replayedTokens: 0,
  };
  let seq = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const action = target.slice(target.lastIndexOf('.') + 1) || 'unknown';
      stats.calls[action] = (stats.calls[action] ?? 0) + 1;
      const send = (status: number, body: unknown) => {
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': String(++seq),
        });
        res.end(JSON.stringify(body));
      };
      const throttle = () => send(400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
      if (action !== 'RunTask')
        return send(400, {
          __type: 'InvalidParameterException',
          message: `the fake serves RunTask, not ${action}`,
        });
      if (!api.has()) {
        stats.apiThrottled++;
        return throttle();
      }
      api.take();
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        clientToken?: string;
        startedBy?: string;
        count?: number;
      };
      const replay = input.clientToken ? byToken.get(input.clientToken) : undefined;
      if (replay) {
        stats.replayedTokens++;
        return send(200, { tasks: [{ taskArn: replay, lastStatus: 'PROVISIONING' }], failures: [] });
      }
      if (!launches.has()) {
        stats.launchThrottled++;
        return throttle();
      }
      launches.take();
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
