import { defineConfig } from 'vitest/config';

// Browser tests (npm run test:e2e): Debian's Chromium driven by playwright-core against the whole
// local platform. One file at a time: each starts its own platform and a browser, and the machine
// has two cores.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 90_000,
    hookTimeout: 60_000,
    globalSetup: ['test/e2e/global-setup.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
