import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests and integration tests that start real servers, ptys and keyrings.
// Both import the TypeScript sources directly; integration tests that spawn the CLI use dist/ (built by
// `npm test` before they run).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/build.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Integration tests share system resources (ports, keyring sessions); keep the file count per
          // worker low on 2 cores.
          maxWorkers: 2,
        },
      },
    ],
  },
});
