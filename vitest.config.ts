import { defineConfig } from 'vitest/config';

// Two projects: `unit` is quick and needs nothing but Node; `system` starts real processes
// (the built CLI, OpenSSH) and is run by `npm test` and CI, not on every save.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'system',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
