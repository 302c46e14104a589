import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// Three projects: fast unit tests, component tests of the Svelte UI (jsdom + testing-library), and
// integration tests that start real servers, ptys and keyrings.
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
        plugins: [svelte({ configFile: 'renderer/svelte.config.js' }), svelteTesting()],
        test: {
          name: 'component',
          include: ['test/component/**/*.test.ts'],
          environment: 'jsdom',
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
