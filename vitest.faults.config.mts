import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * The fault suite (`npm run test:faults`): backends as child processes that are killed, frozen and
 * restarted, a real DNS server, and a bound of 50 ms on how late a call may end after its deadline.
 * Files run one at a time so that no other suite competes for the two CPUs while a scenario measures.
 */
export default defineConfig({
  // Examples import the package by name, as user code does (tsconfig.json maps it for tsc and tsx).
  resolve: { alias: { switchyard: resolve('src/index.ts') } },
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
