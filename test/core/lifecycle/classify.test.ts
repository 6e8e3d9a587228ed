import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AttemptEnd,
  BERTH_STOP_REASONS,
  classifyAttempt,
  NO_RETRY_EXIT_CODE,
} from '../../../src/core/lifecycle/classify.js';
import { OUTCOME_CLASSES } from '../../../src/core/lifecycle/states.js';

// Stop codes and reason strings as ECS writes them (../shared/reference/aws-facts.md §1.4–1.5).
const ESSENTIAL_EXITED = {
  stopCode: 'EssentialContainerExited',
  stoppedReason: 'Essential container in task exited',
};
const OOM_REASON = 'OutOfMemoryError: Container killed due to memory usage';
const PULL_NOT_FOUND =
  'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/jobs:missing: not found';
const PULL_TIMEOUT =
  'CannotPullContainerError: ref pull has been retried 5 time(s): failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/": dial tcp 52.216.0.1:443: i/o timeout';
const RESOURCE_INIT =
  'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post "https://api.ecr.us-east-1.amazonaws.com/": dial tcp 10.0.0.1:443: i/o timeout';
const SPOT_REASON = 'Your Spot Task was interrupted.';

const CASES: [string, AttemptEnd, { outcome: string; exitCode: number | null; reason: string | null }][] = [
  [
    'app exit 1',
    { ...ESSENTIAL_EXITED, containers: [{ name: 'main', exitCode: 1 }] },
    { outcome: 'app_error', exitCode: 1, reason: 'Essential container in task exited' },
  ],
  [
    'exit 0',
    { ...ESSENTIAL_EXITED, containers: [{ name: 'main', exitCode: 0 }] },
    { outcome: 'succeeded', exitCode: 0, reason: null },
  ],
  [
    'OOM: 137 with the OutOfMemoryError reason',
    { ...ESSENTIAL_EXITED, containers: [{ name: 'main', exitCode: 137, reason: OOM_REASON }] },
    { outcome: 'oom', exitCode: 137, reason: OOM_REASON },
  ],
  [
    'OOM: 137 without a reason',
    { ...ESSENTIAL_EXITED, containers: [{ name: 'main', exitCode: 137 }] },
    { outcome: 'oom', exitCode: 137, reason: 'Essential container in task exited' },
  ],
  [
    'OOM: the OutOfMemoryError reason with exit 1',
    { ...ESSENTIAL_EXITED, containers: [{ name: 'main', exitCode: 1, reason: OOM_REASON }] },
    { outcome: 'oom', exitCode: 1, reason: OOM_REASON },
  ],
  [
    'CannotPullContainerError (bad tag)',
    { stopCode: 'TaskFailedToStart', stoppedReason: PULL_NOT_FOUND, containers: [{ name: 'main' }] },
    { outcome: 'start_failure', exitCode: null, reason: PULL_NOT_FOUND },
  ],
  [
    'CannotPullContainerError (network) in the container reason only',
    {
      stopCode: 'TaskFailedToStart',
      stoppedReason: 'Task failed to start',
      containers: [{ name: 'main', reason: PULL_TIMEOUT }],
    },
    { outcome: 'start_failure', exitCode: null, reason: 'Task failed to start' },
  ],
  [
    'ResourceInitializationError',
    { stopCode: 'TaskFailedToStart', stoppedReason: RESOURCE_INIT, containers: [{ name: 'main' }] },
    { outcome: 'start_failure', exitCode: null, reason: RESOURCE_INIT },
  ],
  [
    'ENI provisioning timeout without a stop code',
    {
      stoppedReason: 'Timeout waiting for network interface provisioning to complete.',
      containers: [{ name: 'main' }],
    },
    {
      outcome: 'start_failure',
      exitCode: null,
      reason: 'Timeout waiting for network interface provisioning to complete.',
    },
  ],
  [
    'TaskFailedToStart with no reason at all',
    { stopCode: 'TaskFailedToStart', containers: [{ name: 'main' }] },
    { outcome: 'start_failure', exitCode: null, reason: null },
  ],
  [
    'InfrastructureHealth (newer stop code)',
    {
      stopCode: 'InfrastructureHealth',
      stoppedReason: 'Task stopped due to infrastructure health',
      containers: [],
    },
    { outcome: 'start_failure', exitCode: null, reason: 'Task stopped due to infrastructure health' },
  ],
  [
    'SpotInterruption',
    {
      stopCode: 'SpotInterruption',
      stoppedReason: SPOT_REASON,
      containers: [{ name: 'main', exitCode: 143 }],
    },
    { outcome: 'spot_interrupted', exitCode: 143, reason: SPOT_REASON },
  ],
  [
    'TerminationNotice (the 2-minute warning)',
    { stopCode: 'TerminationNotice', stoppedReason: SPOT_REASON, containers: [{ name: 'main' }] },
    { outcome: 'spot_interrupted', exitCode: null, reason: SPOT_REASON },
  ],
  [
    "'Your Spot Task was interrupted.' without a stop code",
    { stoppedReason: SPOT_REASON, containers: [{ name: 'main', exitCode: 0 }] },
    { outcome: 'spot_interrupted', exitCode: 0, reason: SPOT_REASON },
  ],
  [
    'UserInitiated (StopTask from the console)',
    {
      stopCode: 'UserInitiated',
      stoppedReason: 'Task stopped by user',
      containers: [{ name: 'main', exitCode: 143 }],
    },
    { outcome: 'cancelled', exitCode: 143, reason: 'Task stopped by user' },
  ],
  [
    "berth's timeout stop",
    {
      stopCode: 'UserInitiated',
      stoppedReason: `${BERTH_STOP_REASONS.timeout} after 1h`,
      containers: [{ name: 'main', exitCode: 143 }],
    },
    { outcome: 'timed_out', exitCode: 143, reason: `${BERTH_STOP_REASONS.timeout} after 1h` },
  ],
  [
    "berth's cancel stop",
    { stopCode: 'UserInitiated', stoppedReason: BERTH_STOP_REASONS.cancel, containers: [{ name: 'main' }] },
    { outcome: 'cancelled', exitCode: null, reason: BERTH_STOP_REASONS.cancel },
  ],
  [
    'task MISSING in DescribeTasks',
    { missing: true, containers: [] },
    { outcome: 'lost', exitCode: null, reason: 'task is missing: its stop was never seen' },
  ],
  [
    'exit 86: the job marked the failure final',
    { ...ESSENTIAL_EXITED, containers: [{ name: 'main', exitCode: NO_RETRY_EXIT_CODE }] },
    { outcome: 'app_error', exitCode: 86, reason: 'Essential container in task exited' },
  ],
  [
    'two essential containers: the failing one decides',
    {
      ...ESSENTIAL_EXITED,
      containers: [
        { name: 'sidecar', exitCode: 0 },
        { name: 'main', exitCode: 3 },
      ],
    },
    { outcome: 'app_error', exitCode: 3, reason: 'Essential container in task exited' },
  ],
  [
    'stopped with no exit code anywhere',
    { ...ESSENTIAL_EXITED, containers: [{ name: 'main', exitCode: null }] },
    { outcome: 'start_failure', exitCode: null, reason: 'Essential container in task exited' },
  ],
  [
    'local: killed by SIGTERM',
    { signal: 'SIGTERM', containers: [{ exitCode: null }] },
    { outcome: 'app_error', exitCode: null, reason: 'killed by SIGTERM' },
  ],
  [
    'local: killed by SIGKILL',
    { signal: 'SIGKILL', containers: [{ exitCode: null }] },
    { outcome: 'oom', exitCode: null, reason: 'killed (SIGKILL / exit 137)' },
  ],
  [
    'local: command not found',
    { launchFailed: true, stoppedReason: 'spawn nodee ENOENT', containers: [] },
    { outcome: 'start_failure', exitCode: null, reason: 'spawn nodee ENOENT' },
  ],
];

describe('classifyAttempt', () => {
  it.each(CASES)('%s', (_what, end, expected) => {
    expect(classifyAttempt(end)).toEqual(expected);
  });
});

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const reasonArb = fc.oneof(
  fc.constantFrom(
    'Essential container in task exited',
    OOM_REASON,
    PULL_NOT_FOUND,
    RESOURCE_INIT,
    SPOT_REASON,
    'Task stopped by user',
    `${BERTH_STOP_REASONS.timeout} after 5m`,
    BERTH_STOP_REASONS.cancel,
    'Task failed to start',
  ),
  fc.string(),
);
const endArb: fc.Arbitrary<AttemptEnd> = fc.record({
  containers: fc.array(
    fc.record({
      name: maybe(fc.string()),
      exitCode: fc.option(fc.oneof(fc.constantFrom(0, 1, 2, 86, 137, 143), fc.integer({ min: 0, max: 255 }))),
      reason: fc.option(reasonArb),
    }),
    { maxLength: 3 },
  ),
  stopCode: fc.option(
    fc.oneof(
      fc.constantFrom(
        'TaskFailedToStart',
        'EssentialContainerExited',
        'UserInitiated',
        'ServiceSchedulerInitiated',
        'SpotInterruption',
        'TerminationNotice',
        'InfrastructureHealth',
      ),
      fc.string(),
    ),
  ),
  stoppedReason: fc.option(reasonArb),
  signal: fc.option(fc.constantFrom('SIGKILL', 'SIGTERM', 'SIGINT')),
  missing: maybe(fc.boolean()),
  launchFailed: maybe(fc.boolean()),
});

describe('classifyAttempt properties', () => {
  it('maps every stop into exactly one class, with an exit code taken from the containers', () => {
    fc.assert(
      fc.property(endArb, (end) => {
        const c = classifyAttempt(end);
        expect(OUTCOME_CLASSES).toContain(c.outcome);
        if (c.exitCode !== null) expect(end.containers.map((x) => x.exitCode)).toContain(c.exitCode);
      }),
      { numRuns: 2000 },
    );
  });

  it('a missing task is lost, whatever else is known', () => {
    fc.assert(fc.property(endArb, (end) => classifyAttempt({ ...end, missing: true }).outcome === 'lost'));
  });

  it("berth's own timeout wins over every ECS detail", () => {
    fc.assert(
      fc.property(endArb, (end) => {
        const c = classifyAttempt({
          ...end,
          missing: false,
          stoppedReason: `${BERTH_STOP_REASONS.timeout} (1h)`,
        });
        return c.outcome === 'timed_out';
      }),
    );
  });

  it('a Spot stop code means spot_interrupted unless berth stopped the task itself', () => {
    fc.assert(
      fc.property(endArb, fc.constantFrom('SpotInterruption', 'TerminationNotice'), (end, stopCode) => {
        const stoppedReason = end.stoppedReason?.startsWith('berth:') ? null : end.stoppedReason;
        return (
          classifyAttempt({ ...end, missing: false, stoppedReason, stopCode }).outcome === 'spot_interrupted'
        );
      }),
    );
  });

  it('succeeded only when every essential container exited 0 and nothing else went wrong', () => {
    fc.assert(
      fc.property(endArb, (end) => {
        if (classifyAttempt(end).outcome !== 'succeeded') return true;
        return (
          end.containers.length > 0 &&
          end.containers.every((c) => c.exitCode === 0) &&
          !end.signal &&
          !end.missing &&
          !end.launchFailed
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('a clean exit 0 of every container is a success', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), (n) => {
        const containers = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, exitCode: 0 }));
        return classifyAttempt({ ...ESSENTIAL_EXITED, containers }).outcome === 'succeeded';
      }),
    );
  });
});
