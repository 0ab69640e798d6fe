import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    testTimeout: 30_000,
    // Hooks build the .NET programs one at a time under a lock: minutes when the machine is loaded.
    hookTimeout: 600_000,
    pool: 'forks',
    // Two cores: Azurite, dotnet and the workers share them.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
