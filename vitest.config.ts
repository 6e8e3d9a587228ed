import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration tiers start servers and processes; keep the two cores from being oversubscribed.
    maxWorkers: 2,
  },
});
