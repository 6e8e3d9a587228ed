import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { serviceOptionsSchema } from '../../../src/core/model/trigger.js';
import {
  DEFAULT_SERVICE_OPTIONS,
  desiredTasks,
  evaluateScaling,
  type ScalerOptions,
  type ScalerState,
  scalerOptions,
  serviceOptionsOf,
} from '../../../src/core/scaling/index.js';

describe('desiredTasks', () => {
  it.each([
    // visible, min, max, backlogPerTask, expected
    [0, 0, 10, 10, 0],
    [1, 0, 10, 10, 1],
    [10, 0, 10, 10, 1],
    [11, 0, 10, 10, 2],
    [25, 0, 10, 10, 3],
    [1000, 0, 10, 10, 10],
    [0, 2, 10, 10, 2],
    [5, 2, 10, 100, 2],
    [7, 1, 20, 2.5, 3],
  ])(
    'visible %i, range [%i, %i], %i per task → %i',
    (visible, minTasks, maxTasks, backlogPerTask, expected) => {
      expect(desiredTasks({ visible, minTasks, maxTasks, backlogPerTask })).toBe(expected);
    },
  );

  it('treats a missing or negative reading as an empty queue', () => {
    expect(desiredTasks({ visible: Number.NaN, minTasks: 1, maxTasks: 5, backlogPerTask: 10 })).toBe(1);
    expect(desiredTasks({ visible: -3, minTasks: 0, maxTasks: 5, backlogPerTask: 10 })).toBe(0);
  });

  const input = fc
    .record({
      visible: fc.nat(1_000_000),
      minTasks: fc.nat(50),
      span: fc.nat(200),
      backlogPerTask: fc.integer({ min: 1, max: 10_000 }),
    })
    .map(({ span, ...r }) => ({ ...r, maxTasks: Math.max(1, r.minTasks + span) }));

  it('always lies within [minTasks, maxTasks]', () => {
    fc.assert(
      fc.property(input, (i) => {
        const d = desiredTasks(i);
        return d >= i.minTasks && d <= i.maxTasks;
      }),
    );
  });

  it('gives each worker at most backlogPerTask messages unless capped by maxTasks', () => {
    fc.assert(
      fc.property(input, (i) => {
        const d = desiredTasks(i);
        return d === i.maxTasks || d * i.backlogPerTask >= i.visible;
      }),
    );
  });

  it('is the smallest such count above minTasks (no over-provisioning)', () => {
    fc.assert(
      fc.property(input, (i) => {
        const d = desiredTasks(i);
        return d === i.minTasks || (d - 1) * i.backlogPerTask < i.visible;
      }),
    );
  });

  it('never decreases when the backlog grows', () => {
    fc.assert(
      fc.property(
        input,
        fc.nat(10_000),
        (i, extra) => desiredTasks({ ...i, visible: i.visible + extra }) >= desiredTasks(i),
      ),
    );
  });
});

describe('evaluateScaling', () => {
  const options: ScalerOptions = { minTasks: 1, maxTasks: 10, backlogPerTask: 10, scaleInCooldownMs: 60_000 };

  it('scales out at once, even right after another change', () => {
    const s0: ScalerState = { current: 1, lastChangeAt: 1_000 };
    const d = evaluateScaling(s0, 45, 1_001, options);
    expect(d).toEqual({ state: { current: 5, lastChangeAt: 1_001 }, action: 'out' });
  });

  it('holds a scale-in during the cool-down and scales in after it', () => {
    const s0: ScalerState = { current: 5, lastChangeAt: 0 };
    expect(evaluateScaling(s0, 0, 59_999, options)).toEqual({
      state: s0,
      action: 'hold',
      reason: 'scale-in-cooldown',
    });
    expect(evaluateScaling(s0, 0, 60_000, options)).toEqual({
      state: { current: 1, lastChangeAt: 60_000 },
      action: 'in',
    });
  });

  it('restarts the cool-down on each change: a scale-out then a lull keeps the workers for the cool-down', () => {
    let s: ScalerState = { current: 1 };
    s = evaluateScaling(s, 100, 0, options).state; // 10 workers
    expect(s.current).toBe(10);
    s = evaluateScaling(s, 0, 30_000, options).state;
    expect(s.current).toBe(10);
    s = evaluateScaling(s, 0, 60_000, options).state;
    expect(s.current).toBe(1);
  });

  it('scales in from the first evaluation when nothing changed before', () => {
    expect(evaluateScaling({ current: 4 }, 0, 0, options).state.current).toBe(1);
  });

  it('applies new bounds at once in both directions', () => {
    expect(evaluateScaling({ current: 8, lastChangeAt: 0 }, 100, 1, { ...options, maxTasks: 3 })).toEqual({
      state: { current: 3, lastChangeAt: 1 },
      action: 'in',
    });
    expect(evaluateScaling({ current: 1, lastChangeAt: 0 }, 0, 1, { ...options, minTasks: 4 })).toEqual({
      state: { current: 4, lastChangeAt: 1 },
      action: 'out',
    });
  });

  it('property: never scales in within the cool-down, never lags a scale-out, stays within bounds', () => {
    const step = fc.record({ visible: fc.nat(500), dt: fc.integer({ min: 0, max: 120_000 }) });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        let state: ScalerState = { current: options.minTasks };
        let now = 0;
        for (const { visible, dt } of steps) {
          now += dt;
          const before = state;
          const d = evaluateScaling(state, visible, now, options);
          state = d.state;
          const want = desiredTasks({ visible, ...options });
          if (state.current < options.minTasks || state.current > options.maxTasks) return false;
          if (want > before.current && state.current !== want) return false;
          if (state.current < before.current) {
            const last = before.lastChangeAt;
            if (last !== undefined && now - last < options.scaleInCooldownMs) return false;
          }
          if (d.action === 'hold' && state !== before) return false;
        }
        return true;
      }),
    );
  });
});

describe('serviceOptionsOf', () => {
  const queue = {
    batchSize: 1,
    fifo: false,
    visibilityTimeout: '6m',
    maxReceiveCount: 5,
    retention: '4d',
  } as const;

  it('matches the defaults the job schema applies', () => {
    expect(serviceOptionsSchema.parse({})).toEqual(DEFAULT_SERVICE_OPTIONS);
  });

  it('is undefined in task mode and fills defaults in service mode', () => {
    expect(serviceOptionsOf({ ...queue, mode: 'task' })).toBeUndefined();
    expect(serviceOptionsOf({ ...queue, mode: 'service' })).toEqual(DEFAULT_SERVICE_OPTIONS);
    const resolved = serviceOptionsOf({
      ...queue,
      mode: 'service',
      service: { ...DEFAULT_SERVICE_OPTIONS, minTasks: 0, scaleInCooldown: '30s' },
    });
    expect(resolved?.minTasks).toBe(0);
    expect(resolved && scalerOptions(resolved).scaleInCooldownMs).toBe(30_000);
  });
});
