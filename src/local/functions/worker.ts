// One worker process: the local stand-in for one container of the Node.js runtime. It runs one
// function at one build, one activation at a time (`concurrency: 1` in DigitalOcean's activation
// records), and is driven over the action-proxy protocol (`/init` once, `/run` per activation).
// The worker is SIGKILLed when an activation passes its timeout, as the invoker destroys a
// container that timed out, and when its resident memory passes the function's memory limit, as
// the kernel kills a container past its cgroup's limit.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import * as z from 'zod';
import type { FunctionSpec } from '../project.js';
import { processMemory } from '../processes.js';
import type { LogLine } from './activations.js';
import { maxPayloadBytes, truncatedResultBytes, truncatedResultMessage } from './limits.js';
import { activationEndSentinel } from './protocol.js';

/** How long a new process may take to start listening before it counts as failed. */
const workerStartTimeoutMs = 10_000;
/** After /run answers (or the process ends), how long to wait for the rest of its output. */
const logDrainTimeoutMs = 2_000;
/**
 * How often a running activation's memory is sampled. The peak (VmHWM) is what is compared, so a
 * spike between two samples is still caught at the next one, or when /run answers.
 */
const memorySampleMs = 50;
const mebibyte = 1024 * 1024;
/** Node's last words when V8 runs out of heap (the worker's heap is capped at the memory limit). */
const heapExhaustedPattern = /^FATAL ERROR: .*JavaScript heap out of memory/;

export interface FunctionBuild {
  fn: FunctionSpec;
  /** The single-file CommonJS bundle's source. */
  code: string;
  /** Content hash of the bundle. */
  buildId: string;
}

/** The fields the invoker sends with every `/run` besides `value` (apache/openwhisk ContainerProxy). */
export interface RunContext {
  namespace: string;
  action_name: string;
  action_version: string;
  activation_id: string;
  transaction_id: string;
  deadline: string;
  api_key?: string;
}

export type RunOutcome =
  | { kind: 'result'; result: Record<string, unknown>; initMs: number | undefined }
  /** The result serialized to more than the payload limit; `trunk` is its start. */
  | { kind: 'resultTooLarge'; bytes: number; trunk: string; initMs: number | undefined }
  /** The proxy answered with an error status (failed init, synchronous throw, non-object result). */
  | { kind: 'developerError'; message: string; initMs: number | undefined }
  | { kind: 'timeout'; initializing: boolean }
  /** Killed for passing the function's memory limit, or V8 ran out of its heap (capped at that limit). */
  | { kind: 'memoryExhausted' }
  | { kind: 'crashed' };

/** What the proxy answered. A body past the payload limit is not kept: only its size and its start. */
interface ProxyResponse {
  status: number;
  body: unknown;
  tooLarge?: { bytes: number; trunk: string };
}

const portMessageSchema = z.object({ port: z.number().int().positive() });
const proxyErrorSchema = z.object({ error: z.unknown() });
const resultSchema = z.record(z.string(), z.unknown());

type Stream = LogLine['stream'];

export class Worker {
  /** Busy from the moment an activation is handed to it until its logs are in. */
  busy = false;
  /** No further activations: the build was replaced, or the process failed. */
  retired = false;
  lastUsedAt = Date.now();
  private initialized = false;
  private exitedFlag = false;
  private heapExhausted = false;
  private logSink: ((line: LogLine) => void) | undefined;
  private markersSeen = new Set<Stream>();
  private markersDone: (() => void) | undefined;
  private crashed: (() => void) | undefined;
  readonly exited: Promise<void>;
  /** Both output pipes have closed: everything the process printed has been read. */
  private readonly outputClosed: Promise<unknown>;

  private constructor(
    readonly build: FunctionBuild,
    private readonly child: ChildProcess,
    readonly pid: number,
    private readonly port: number,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    void this.exited.then(() => {
      this.exitedFlag = true;
      this.retired = true;
      this.crashed?.();
    });
    this.outputClosed = Promise.all([this.pipeLines(child, 'stdout'), this.pipeLines(child, 'stderr')]);
  }

  static async spawn(
    proxyScript: string,
    build: FunctionBuild,
    options: { apiHost: string; cwd: string },
  ): Promise<Worker> {
    // The container's environment: nothing of this machine's, only what the platform gives it
    // (`__OW_API_HOST` at container start; project.yml `environment` arrives with /init). The V8
    // heap is capped at the memory limit so that it cannot outgrow the container between two
    // memory samples; V8 running out of it counts as memory exhausted.
    const child = spawn(process.execPath, [`--max-old-space-size=${build.fn.memoryMb}`, proxyScript], {
      cwd: options.cwd,
      env: {
        PATH: process.env.PATH ?? '',
        __OW_API_HOST: options.apiHost,
        // The AWS SDK warns on every worker start that it will soon need Node 22. Deployed functions
        // run on nodejs:22; only this local stand-in runs on the machine's Node 20.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      const fail = (reason: string): void => {
        cleanup();
        child.kill('SIGKILL');
        reject(new Error(`worker for ${build.fn.qualifiedName} did not start: ${reason}`));
      };
      const onMessage = (message: unknown): void => {
        const parsed = portMessageSchema.safeParse(message);
        if (!parsed.success) return fail('unexpected first message');
        cleanup();
        resolve(parsed.data.port);
      };
      const onExit = (code: number | null): void => fail(`exited with ${code}`);
      const onError = (error: Error): void => fail(error.message);
      const timer = setTimeout(() => fail('timed out'), workerStartTimeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        child.off('error', onError);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.once('error', onError);
    });
    if (child.pid === undefined) throw new Error(`worker for ${build.fn.qualifiedName} has no pid`);
    return new Worker(build, child, child.pid, port);
  }

  get alive(): boolean {
    return !this.exitedFlag;
  }

  /**
   * Runs one activation: `/init` first if this process is cold, then `/run`. The timeout covers
   * both (DigitalOcean's limit includes initialization), and so does the memory limit. Never
   * throws: every way it can end is an outcome. Log lines of the activation go to `onLog`.
   */
  async activate(
    params: Record<string, unknown>,
    context: RunContext,
    environment: Record<string, string>,
    timeoutMs: number,
    onLog: (line: LogLine) => void,
  ): Promise<RunOutcome> {
    this.busy = true;
    this.logSink = onLog;
    this.markersSeen = new Set();
    let initializing = !this.initialized;
    // Set once we kill the process ourselves: its exit is then that outcome, not a crash.
    let killedFor: Promise<RunOutcome> | undefined;
    const killFor = (outcome: () => RunOutcome): Promise<RunOutcome> => {
      // Resolved only once the process is gone, so the record never names a live worker.
      killedFor ??= this.kill().then(outcome);
      return killedFor;
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<RunOutcome>((resolve) => {
      timer = setTimeout(() => void killFor(() => ({ kind: 'timeout', initializing })).then(resolve), timeoutMs);
    });
    let sampler: NodeJS.Timeout | undefined;
    const outOfMemory = new Promise<RunOutcome>((resolve) => {
      sampler = setInterval(() => {
        if (!this.pastMemoryLimit()) return;
        clearInterval(sampler);
        void killFor(() => ({ kind: 'memoryExhausted' })).then(resolve);
      }, memorySampleMs);
    });
    const crashed = new Promise<RunOutcome>((resolve) => {
      // Also when we killed it for another reason (stop): the activation ended without a result.
      const onExit = (): void => {
        if (killedFor !== undefined) return;
        // Node prints why it aborted just before exiting: read to the end before deciding.
        void this.outputRead().then(() => resolve(this.heapExhausted ? { kind: 'memoryExhausted' } : { kind: 'crashed' }));
      };
      if (this.exitedFlag) onExit();
      this.crashed = onExit;
    });
    const work = async (): Promise<RunOutcome> => {
      let initMs: number | undefined;
      if (!this.initialized) {
        const initStart = Date.now();
        const init = await this.post('/init', {
          value: { name: context.action_name, main: this.build.fn.main, code: this.build.code, binary: false, env: environment },
        });
        initMs = Date.now() - initStart;
        // An oversized init answer is a developer error (ActivationResult.scala processInitResponseContent).
        if (init.tooLarge) return { kind: 'developerError', message: truncatedResultMessage(init.tooLarge.bytes, init.tooLarge.trunk), initMs };
        if (init.status !== 200) return { kind: 'developerError', message: describeProxyError(init.body), initMs };
        this.initialized = true;
        initializing = false;
      }
      const run = await this.post('/run', { value: params, ...context });
      if (run.tooLarge) return { kind: 'resultTooLarge', ...run.tooLarge, initMs };
      if (run.status !== 200) return { kind: 'developerError', message: describeProxyError(run.body), initMs };
      const result = resultSchema.safeParse(run.body);
      if (!result.success) return { kind: 'developerError', message: 'The action did not return a dictionary.', initMs };
      return { kind: 'result', result: result.data, initMs };
    };
    let outcome = await Promise.race([work().catch((): Promise<RunOutcome> => crashed), timedOut, outOfMemory, crashed]);
    clearTimeout(timer);
    clearInterval(sampler);
    // A peak since the last sample counts too: the container would not have lived to answer.
    if (killedFor === undefined && this.pastMemoryLimit()) outcome = await killFor(() => ({ kind: 'memoryExhausted' }));
    const answered = outcome.kind === 'result' || outcome.kind === 'resultTooLarge' || outcome.kind === 'developerError';
    if (answered) await this.drainLogs();
    this.logSink = undefined;
    this.crashed = undefined;
    // A container whose action failed to initialize or run (developer error) is not reused; an
    // oversized result is an application error and keeps it (ActivationResult.scala).
    if (outcome.kind !== 'result' && outcome.kind !== 'resultTooLarge') await this.kill();
    this.busy = false;
    this.lastUsedAt = Date.now();
    return outcome;
  }

  /** Resident memory, now or at its peak, past the function's `limits.memory`. */
  private pastMemoryLimit(): boolean {
    const memory = processMemory(this.pid);
    return memory !== undefined && memory.peakResidentBytes > this.build.fn.memoryMb * mebibyte;
  }

  /** Everything the process printed has been read (or a short cap passed: a grandchild may hold the pipes). */
  private outputRead(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, logDrainTimeoutMs);
      void this.outputClosed.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** SIGKILL, as the invoker destroys a container; resolves once the process is gone. */
  kill(): Promise<void> {
    this.retired = true;
    if (!this.exitedFlag) this.child.kill('SIGKILL');
    return this.exited;
  }

  /**
   * One request to the proxy. node:http rather than fetch: fetch (undici) gives up on a response
   * whose headers take over 5 minutes, and `/run` answers only when the activation ends, which
   * may be up to 15 minutes later (DigitalOcean docs: Functions limits). The activation's own
   * timeout is the only limit. A fresh connection each time (`agent: false`): a kept-alive one
   * can be closed by the proxy's idle timeout just as the next activation is sent on it.
   *
   * An answer past the payload limit is read to its end but only its start is kept, as the
   * invoker does (PekkoContainerClient: Content-Length over the limit, then `truncated`).
   */
  private post(route: string, body: unknown): Promise<ProxyResponse> {
    const payload = JSON.stringify(body);
    const keptBytes = Math.max(maxPayloadBytes, truncatedResultBytes);
    return new Promise((resolve, reject) => {
      const request = http.request(
        { host: '127.0.0.1', port: this.port, path: route, method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
        (response) => {
          const chunks: Buffer[] = [];
          let received = 0;
          response.on('data', (chunk: Buffer) => {
            if (received < keptBytes) chunks.push(chunk.subarray(0, keptBytes - received));
            received += chunk.length;
          });
          response.on('error', reject);
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            if (received > maxPayloadBytes) {
              resolve({ status, body: undefined, tooLarge: { bytes: received, trunk: Buffer.concat(chunks).subarray(0, truncatedResultBytes).toString('utf8') } });
              return;
            }
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text) as unknown;
            } catch {
              // Not JSON: keep the text for the error message.
            }
            resolve({ status, body: parsed });
          });
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  }

  /** Waits until both streams have printed the end marker (or the process is gone, or a short cap). */
  private drainLogs(): Promise<void> {
    if (this.markersSeen.size === 2 || this.exitedFlag) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, logDrainTimeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.markersDone = () => {
        this.markersDone = undefined;
        done();
      };
      void this.exited.then(done);
    });
  }

  /** Splits a stream into lines; resolves when it has closed. */
  private pipeLines(child: ChildProcess, stream: Stream): Promise<void> {
    const pipe = child[stream];
    if (pipe === null) return Promise.resolve();
    let partial = '';
    pipe.setEncoding('utf8');
    pipe.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.onLine(stream, line);
    });
    pipe.on('end', () => {
      if (partial !== '') this.onLine(stream, partial);
      partial = '';
    });
    return new Promise((resolve) => pipe.once('close', () => resolve()));
  }

  private onLine(stream: Stream, line: string): void {
    if (line === activationEndSentinel) {
      this.markersSeen.add(stream);
      if (this.markersSeen.size === 2) this.markersDone?.();
      return;
    }
    if (stream === 'stderr' && heapExhaustedPattern.test(line)) this.heapExhausted = true;
    this.logSink?.({ time: new Date().toISOString(), stream, log: line });
  }
}

function describeProxyError(body: unknown): string {
  const parsed = proxyErrorSchema.safeParse(body);
  if (parsed.success) return typeof parsed.data.error === 'string' ? parsed.data.error : JSON.stringify(parsed.data.error);
  return typeof body === 'string' ? body : JSON.stringify(body);
}
