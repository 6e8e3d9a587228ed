import { defineJob } from 'berth';

/** No trigger: runs only when invoked (`npx berth invoke reindex`, or with --stage on AWS). */
export default defineJob({
  name: 'reindex',
  description: 'Rebuild the search index on demand',
  task: {
    image: 'public.ecr.aws/docker/library/node:22-alpine',
    command: ['node', 'tasks/reindex.mjs'],
    cpu: 512,
    memory: 1024,
    local: { command: ['node', 'tasks/reindex.mjs'] },
  },
  retry: { maxAttempts: 1 },
  timeout: '30m',
});
