import { defineJob } from 'berth';

/** One run per message on its own SQS queue (with a dead-letter queue after 3 receives). */
export default defineJob({
  name: 'process-order',
  description: 'Process each order message in its own task',
  trigger: { queue: { maxReceiveCount: 3 } },
  task: {
    // berth bundles the task onto a Node base image, pushes it to ECR and pins it by digest on deploy;
    // `berth dev` runs the same file with node.
    build: { entry: 'tasks/process-order.mjs' },
    cpu: 256,
    memory: 512,
  },
  maxConcurrency: 5,
  timeout: '15m',
});
