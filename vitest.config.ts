import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // chDB allows one data directory per process: every test file gets a process of its own.
    pool: 'forks',
    // Integration tests share one Kafka broker and two cores: run files one at a time.
    fileParallelism: false,
    globalSetup: ['test/support/globalSetup.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
