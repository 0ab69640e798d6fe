import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores: Azurite, dotnet and the workers share them.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
