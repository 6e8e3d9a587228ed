import { defineJob } from 'berth';

/** Processes each order message in its own task; at most 5 at once. */
export default defineJob({
  name: 'order-worker',
  description: 'Fulfil one order per queue message',
  trigger: { queue: { batchSize: 1, maxReceiveCount: 5, visibilityTimeout: '6m' } },
  task: {
    // berth bundles the task onto a Node base image, pushes it and pins it by digest (docs/images.md);
    // `berth dev` runs the same file with node, no image.
    build: { entry: 'tasks/order-worker.mjs' },
    cpu: 256,
    memory: 512,
  },
  maxConcurrency: 5,
  timeout: '5m',
  retry: {
    maxAttempts: 3,
    backoff: { minDelay: '2s', maxDelay: '30s', factor: 2, jitter: 0.2 },
    rules: [
      // Exit 2 = the order is invalid: another attempt cannot help.
      { onExitCode: 2, action: 'fail' },
      { onOutcome: 'oom', action: 'retry' },
    ],
  },
});
