import { defineJob } from 'berth';

/** No trigger: runs only when invoked (`npx berth invoke reindex`, or with --stage on AWS). */
export default defineJob({
  name: 'reindex',
  description: 'Rebuild the search index on demand',
  task: {
    // berth bundles the task onto a Node base image, pushes it to ECR and pins it by digest on deploy;
    // `berth dev` runs the same file with node.
    build: { entry: 'tasks/reindex.mjs' },
    cpu: 512,
    memory: 1024,
  },
  retry: { maxAttempts: 1 },
  timeout: '30m',
});
