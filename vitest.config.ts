import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Browser tests and the chaos suite have configs of their own (test:e2e, test:chaos).
    exclude: ['test/e2e/**', 'test/chaos/**', 'node_modules/**'],
    // Each file starts its own real services (Postgres, S3, functions runtime); two cores here.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
    // Tests talk to the local S3 server with the SDK on this machine's Node 20 (functions deploy on 22).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
