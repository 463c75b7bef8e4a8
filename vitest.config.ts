import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The history page's script is a bundle in dist/; build it from the current sources first.
    globalSetup: ['test/setup/build-page-script.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Crash, cluster and browser tests start processes of their own; two cores are all we have.
    maxWorkers: 2,
  },
});
