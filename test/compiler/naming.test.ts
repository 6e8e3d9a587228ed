import { describe, expect, it } from 'vitest';
import { createNames, logicalIds, NAME_LIMITS, pascal, truncate } from '../../src/compiler/naming.js';

describe('naming', () => {
  it('truncates to the limit with a stable hash suffix', () => {
    const long = `a${'b'.repeat(100)}`;
    const cut = truncate(long, 64);
    expect(cut).toHaveLength(64);
    expect(cut).toBe(truncate(long, 64));
    expect(cut).toMatch(/^abbb+-[0-9a-f]{6}$/);
    expect(truncate('short', 64)).toBe('short');
    expect(truncate(`${long}x`, 64)).not.toBe(cut);
  });

  it('keeps every physical name of a 32-character job inside its AWS limit', () => {
    const names = createNames('a-very-long-service-name-that-goes-on', 'production-eu-west');
    const jobName = 'j'.repeat(32);
    expect(names.base.length).toBeLessThanOrEqual(24);
    expect(names.taskRole(jobName).length).toBeLessThanOrEqual(NAME_LIMITS.iamRole);
    expect(names.lambdaRole('interceptor').length).toBeLessThanOrEqual(NAME_LIMITS.iamRole);
    expect(names.functionName('interceptor').length).toBeLessThanOrEqual(NAME_LIMITS.lambdaFunction);
    expect(names.s3Rule(jobName, 12).length).toBeLessThanOrEqual(NAME_LIMITS.eventsRule);
    expect(names.schedule(jobName, 12).length).toBeLessThanOrEqual(NAME_LIMITS.schedule);
    const fifo = names.jobDeadLetterQueue(jobName, true);
    expect(fifo.length).toBeLessThanOrEqual(NAME_LIMITS.sqsQueue);
    expect(fifo.endsWith('.fifo')).toBe(true);
  });

  it('gives every stage one `<base>__` prefix that no other stage can match', () => {
    const a = createNames('shop', 'dev');
    const b = createNames('shop-dev', 'x');
    expect(a.taskFamily('resize')).toBe('shop-dev__resize');
    expect(a.taskRole('resize')).toBe('shop-dev__task-resize');
    expect(b.taskFamily('resize').startsWith(a.prefix)).toBe(false);
    expect(a.base).not.toContain('__');
  });

  it('builds logical ids from job names, unambiguously', () => {
    expect(logicalIds.taskDefinition('order-worker')).toBe('BerthJobOrderWorkerTaskDefinition');
    expect(pascal('x-1a')).not.toBe(pascal('x1a'));
    expect(pascal('x-1a')).toMatch(/^X1aH[0-9a-f]{6}$/);
    expect(logicalIds.function('launcher')).toBe('BerthLauncherLambdaFunction');
    expect(logicalIds.functionKey('sweeper')).toBe('berthSweeper');
  });
});
