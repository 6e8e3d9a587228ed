/**
 * Backlog-per-task scaling maths, shared by the compiler (which states the rule to Application Auto Scaling)
 * and `berth dev` (which applies it to local worker processes). Pure: time comes in as numbers.
 */
import { parseDuration } from '../duration.js';
import type { QueueTrigger, ServiceOptions } from '../model/trigger.js';

/** Service options with every default applied. */
export type ResolvedServiceOptions = ServiceOptions;

/** The defaults `serviceOptionsSchema` applies, for a `mode: 'service'` queue written without `service`. */
export const DEFAULT_SERVICE_OPTIONS: ResolvedServiceOptions = {
  minTasks: 1,
  maxTasks: 10,
  backlogPerTask: 10,
  scaleInCooldown: '5m',
  scaleOutCooldown: '1m',
};

/** The service options of a queue trigger, defaults applied; undefined for `mode: 'task'`. */
export function serviceOptionsOf(queue: QueueTrigger): ResolvedServiceOptions | undefined {
  if (queue.mode !== 'service') return undefined;
  return { ...DEFAULT_SERVICE_OPTIONS, ...queue.service };
}

export interface BacklogInput {
  /** Messages ready to be received (SQS ApproximateNumberOfMessagesVisible). */
  visible: number;
  minTasks: number;
  maxTasks: number;
  /** Target messages waiting per running worker. */
  backlogPerTask: number;
}

/**
 * Workers needed so that each has at most `backlogPerTask` waiting messages: ceil(visible ÷ backlogPerTask),
 * clamped to [minTasks, maxTasks].
 * @example desiredTasks({ visible: 25, minTasks: 0, maxTasks: 10, backlogPerTask: 10 }) // 3
 */
export function desiredTasks(input: BacklogInput): number {
  const { minTasks, maxTasks, backlogPerTask } = input;
  const visible = Number.isFinite(input.visible) ? Math.max(0, input.visible) : 0;
  const raw = backlogPerTask > 0 ? Math.ceil(visible / backlogPerTask) : maxTasks;
  return Math.min(maxTasks, Math.max(minTasks, raw));
}

/** What the scaler remembers between evaluations. */
export interface ScalerState {
  /** Workers wanted now. */
  current: number;
  /** Epoch ms of the last change (out or in); undefined before the first. */
  lastChangeAt?: number;
}

export interface ScaleDecision {
  state: ScalerState;
  /** `out`/`in` when `current` changed, `hold` otherwise. */
  action: 'out' | 'in' | 'hold';
  /** Why the count held while the backlog asked for fewer workers (a scale-in waiting out its cool-down). */
  reason?: 'scale-in-cooldown';
}

export interface ScalerOptions {
  minTasks: number;
  maxTasks: number;
  backlogPerTask: number;
  /** Quiet time after any change before a scale-in (Application Auto Scaling's ScaleInCooldown). */
  scaleInCooldownMs: number;
}

/**
 * One evaluation of the backlog rule. Scale-out is immediate: a growing backlog never waits. Scale-in waits
 * until `scaleInCooldownMs` has passed since the last change, so a short lull does not stop workers that the
 * next burst needs again (the same asymmetry Application Auto Scaling applies with its cool-downs).
 */
export function evaluateScaling(
  state: ScalerState,
  visible: number,
  nowMs: number,
  options: ScalerOptions,
): ScaleDecision {
  const want = desiredTasks({ visible, ...options });
  // Bounds may have changed since the last evaluation (a new configuration): honour them at once.
  const current = Math.min(options.maxTasks, Math.max(options.minTasks, state.current));
  if (want > current) return { state: { current: want, lastChangeAt: nowMs }, action: 'out' };
  if (current !== state.current) {
    return { state: { current, lastChangeAt: nowMs }, action: current > state.current ? 'out' : 'in' };
  }
  if (want < current) {
    const quietFor = state.lastChangeAt === undefined ? Number.POSITIVE_INFINITY : nowMs - state.lastChangeAt;
    if (quietFor < options.scaleInCooldownMs) {
      return { state, action: 'hold', reason: 'scale-in-cooldown' };
    }
    return { state: { current: want, lastChangeAt: nowMs }, action: 'in' };
  }
  return { state, action: 'hold' };
}

/** Scaler options from resolved service options. */
export function scalerOptions(options: ResolvedServiceOptions): ScalerOptions {
  return {
    minTasks: options.minTasks,
    maxTasks: options.maxTasks,
    backlogPerTask: options.backlogPerTask,
    scaleInCooldownMs: parseDuration(options.scaleInCooldown),
  };
}
