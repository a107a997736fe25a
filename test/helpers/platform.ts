// The whole local platform for one test file: real Postgres, the SigV4-verifying S3 server, the
// functions runtime, the page — on free ports, in a temporary folder removed at stop.
import { startPlatform, type Platform, type PlatformOptions } from '../../src/local/platform.js';

import { rootDir } from './paths.js';

export { rootDir };
export interface TestPlatformOptions {
  /** Variables for project.yml (limits, keys, thresholds); defaults are the local-dev ones. */
  env?: Record<string, string>;
  /** Scheduled triggers are off in tests unless asked for, so each test decides when a sweep runs. */
  triggers?: boolean;
  /** Raise the runtime's namespace limits (e.g. a fuzz run of thousands of requests). */
  runtimeLimits?: PlatformOptions['runtimeLimits'];
  onSpacesRequest?: PlatformOptions['onSpacesRequest'];
  /** Every line the platform logs (runtime events: workers started, activations), besides SLUICE_TEST_LOG. */
  log?: (line: string) => void;
  /** Keep Postgres and Spaces data here (a restart on the same data); default a temporary folder removed at stop. */
  dataDir?: string;
}

export function startTestPlatform(options: TestPlatformOptions = {}): Promise<Platform> {
  return startPlatform({
    rootDir,
    ports: { web: 0, functions: 0, spaces: 0, postgres: 0 },
    env: options.env ?? {},
    triggers: options.triggers ?? false,
    runtimeLimits: options.runtimeLimits,
    onSpacesRequest: options.onSpacesRequest,
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    log: (line) => {
      if (process.env.SLUICE_TEST_LOG) console.log(line);
      options.log?.(line);
    },
  });
}
