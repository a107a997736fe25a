import { defineConfig } from 'vitest/config';

// The chaos suite (npm run test:chaos, run by .ci/run after the other tests): each file starts the
// whole local platform and puts it under one kind of fault, then checks the invariants from the
// database and the store (test/chaos/support.ts). Two files at a time on the two cores; every
// scenario is bounded in count and time and stops by itself.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
