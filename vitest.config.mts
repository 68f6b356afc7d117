import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Examples import the package by name, as user code does (tsconfig.json maps it for tsc and tsx).
  resolve: { alias: { switchyard: resolve('src/index.ts') } },
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites start real servers and child processes; run files one or two at a time on a
    // 2-core machine so timing-sensitive suites are not starved.
    maxWorkers: 2,
    pool: 'forks',
  },
});
