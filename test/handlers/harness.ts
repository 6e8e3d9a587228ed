/** A runtime over an in-memory store, a recording queue and publisher, a fake clock and a mocked ECS. */
import { ECSClient } from '@aws-sdk/client-ecs';
import type { Job } from '../../src/core/model/job.js';
import { MemoryRunStore } from '../../src/runtime/aws/memoryRunStore.js';
import { createAwsRuntime } from '../../src/runtime/aws/runtime.js';
import { config, FakeClock, manifest, RecordingPublisher, RecordingQueue } from '../runtime/aws/support.js';

export function harness(jobs: Job[], queues: Record<string, string> = {}) {
  const clock = new FakeClock();
  const store = new MemoryRunStore(() => clock.now());
  const queue = new RecordingQueue();
  const events = new RecordingPublisher();
  const ecs = new ECSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const rt = createAwsRuntime(config, manifest(jobs, queues), {
    clients: { ecs },
    store,
    queue,
    events,
    clock,
  });
  return { rt, clock, store, queue, events, ecs };
}
