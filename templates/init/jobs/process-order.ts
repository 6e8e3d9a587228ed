import { defineJob } from 'berth';

/** One run per message on its own SQS queue (with a dead-letter queue after 3 receives). */
export default defineJob({
  name: 'process-order',
  description: 'Process each order message in its own task',
  trigger: { queue: { maxReceiveCount: 3 } },
  task: {
    image: 'public.ecr.aws/docker/library/node:22-alpine',
    command: ['node', 'tasks/process-order.mjs'],
    cpu: 256,
    memory: 512,
    local: { command: ['node', 'tasks/process-order.mjs'] },
  },
  maxConcurrency: 5,
  timeout: '15m',
});
