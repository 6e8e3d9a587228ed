/** bench/launch's fake ECS keeps both Fargate quotas and counts every call, as the benchmark's numbers need. */
import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeEcs, startFakeEcs } from '../../bench/launch/fakeEcs.js';

let fake: FakeEcs | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function calls(endpoint: string, tokens: string[]): Promise<string[]> {
  const ecs = new ECSClient({
    region: 'us-east-1',
    endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  return Promise.all(
    tokens.map((clientToken) =>
      ecs
        .send(
          new RunTaskCommand({
            cluster: 'c',
            taskDefinition: 'td',
            clientToken,
            startedBy: `berth/${clientToken}`,
          }),
        )
        .then(
          () => 'ok',
          (e: { name?: string }) => e.name ?? 'error',
        ),
    ),
  );
}

describe('bench fake ECS', () => {
  it('answers ThrottlingException past the RunTask API bucket (20 calls at once), a repeated client token included', async () => {
    // A refill this slow adds no token while the calls are in flight (the default is 20/s).
    fake = await startFakeEcs({ runTaskPerSecond: 0.001 });
    const answers = await calls(
      fake.endpoint,
      Array.from({ length: 25 }, (_, i) => `t${i}`),
    );
    expect(answers.filter((a) => a === 'ok')).toHaveLength(20);
    expect(answers.filter((a) => a === 'ThrottlingException')).toHaveLength(5);
    expect(fake.stats.apiThrottled).toBe(5);
    expect(fake.stats.calls.RunTask).toBe(25);
  });

  it('answers ThrottlingException past the task launch bucket (100 at once); a repeated token starts nothing and takes no launch token', async () => {
    fake = await startFakeEcs({ runTaskBurst: 1000, runTaskPerSecond: 1000, taskPerSecond: 0.001 });
    const first = await calls(
      fake.endpoint,
      Array.from({ length: 110 }, (_, i) => `t${i}`),
    );
    expect(first.filter((a) => a === 'ok')).toHaveLength(100);
    expect(fake.stats.launchThrottled).toBe(10);
    const okTokens = Array.from({ length: 110 }, (_, i) => `t${i}`).filter((_, i) => first[i] === 'ok');
    const again = await calls(fake.endpoint, okTokens.slice(0, 5));
    expect(again).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(fake.stats.replayedTokens).toBe(5);
    expect(fake.stats.started).toBe(100);
    expect(fake.stats.calls.RunTask).toBe(115);
  });
});
