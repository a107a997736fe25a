// The local DigitalOcean Functions runtime (docs/local-platform.md): one HTTP port serving
// web functions at `/api/v1/web/<namespace>/<package>/<function>` and the OpenWhisk REST API
// (`POST …/namespaces/<ns>/actions/<pkg>/<fn>`, `GET …/activations/<id>`), running each
// function's bundle in worker processes driven over the action-proxy protocol (worker.ts), with
// the namespace limits, scheduled triggers and redeploys of the real platform.
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cron } from 'croner';
import { build as esbuild } from 'esbuild';
import * as z from 'zod';
import { buildIdOf } from '../build.js';
import { bundlePath, type FunctionSpec, type Project } from '../project.js';
import { canReadProcessMemory } from '../processes.js';
import {
  ActivationLogs,
  activationStatus,
  ActivationStore,
  newActivationId,
  type ActivationAnnotation,
  type ActivationOutcome,
  type ActivationRecord,
} from './activations.js';
import {
  defaultMaxConcurrentActivations,
  defaultMaxInvocationsPerMinute,
  maxLogBytes,
  maxPayloadBytes,
  memoryExhaustedMessage,
  NamespaceLimits,
  requestTooLargeMessage,
  truncatedResultMessage,
} from './limits.js';
import { corsHeaders, defaultOptionsReply, delegatesCors, errorReply, resultToReply, WebRequestError, webParams, type HttpReply, type WebRequest } from './web.js';
import { Worker, type FunctionBuild, type RunContext, type RunOutcome } from './worker.js';

export type { ActivationRecord } from './activations.js';

/** A web call still running after this long is answered 202 "Response not yet ready." (docs/platform-facts.md "Web functions"). */
const webResponseWaitMs = 30_000;
/** A blocking REST invoke waits this long before answering 202 with the activation id (OpenWhisk default). */
const blockingInvokeWaitMs = 60_000;
/** Warm workers unused this long are stopped (OpenWhisk keeps idle containers about 10 minutes). */
const idleWorkerTtlMs = 10 * 60_000;
const idleWorkerSweepMs = 30_000;
const defaultNamespace = 'fn-local';
/** The log limit as activation records report it: `limits.logs` is in MB (OpenWhisk ActionLimits), so 256 KB is 0.25. */
const logLimitMb = maxLogBytes / (1024 * 1024);

export interface FunctionsRuntimeOptions {
  project: Project;
  host?: string;
  /** 0 or absent: a free port. */
  port?: number;
  namespace?: string;
  /** The key activations get as `__OW_API_KEY` (`uuid:key`); a random one when absent. */
  apiKey?: string;
  /**
   * Namespace access keys (`<key id>:<secret>`) the REST API accepts; one is issued at start when
   * absent (`accessKey`). DigitalOcean authenticates the REST API with these since 2026.
   */
  accessKeys?: string[];
  /**
   * Also accept `__OW_API_KEY` on the REST API. Default false: DigitalOcean's legacy namespace
   * tokens stopped authenticating on 3 June 2026 (Functions release notes, 13 March 2026) and
   * whether the key handed to an activation still does is not documented, so locally it does not.
   */
  acceptActivationKeys?: boolean;
  maxConcurrentActivations?: number;
  maxInvocationsPerMinute?: number;
  /** Run scheduled triggers (default true). */
  triggers?: boolean;
  /** One line per activation, plus worker and trigger events. */
  log?: (line: string) => void;
}

export interface InvokeOptions {
  /** Default true: wait for the activation and return its record. */
  blocking?: boolean;
}

export interface FunctionsRuntime {
  /** `http://127.0.0.1:<port>`, the value of `__OW_API_HOST`. */
  apiHost: string;
  namespace: string;
  /** What activations of functions annotated `provide-api-key: true` get as `__OW_API_KEY`. */
  apiKey: string;
  /** A namespace access key (`<key id>:<secret>`) the REST API accepts: the first of `accessKeys`, or one issued at start. */
  accessKey: string;
  /** `${apiHost}/api/v1/web/${namespace}` */
  webBase: string;
  /** Routes new activations to the project's current bundles; running ones finish on the old. */
  deploy(project: Project): Promise<void>;
  invoke(name: string, params: object, options: { blocking: false }): Promise<{ activationId: string }>;
  invoke(name: string, params?: object, options?: { blocking?: true }): Promise<ActivationRecord>;
  invoke(name: string, params?: object, options?: InvokeOptions): Promise<ActivationRecord | { activationId: string }>;
  /** The record of a finished activation; undefined while it runs or when unknown. */
  activation(id: string): ActivationRecord | undefined;
  stop(options?: StopOptions): Promise<void>;
}

export interface StopOptions {
  /**
   * A graceful stop: new invocations are refused at once (503), triggers stop, and activations
   * already running get this long to finish before their workers are killed. Default 0: kill now.
   */
  graceMs?: number;
}

/** A refused invocation, with the HTTP status and the OpenWhisk error body the REST API answers. */
export class InvokeError extends Error {
  override name = 'InvokeError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const paramsSchema = z.record(z.string(), z.unknown());

/** A key shaped like DigitalOcean's namespace access keys: id `dof_v1_…`, a secret shown once. */
export function newAccessKey(): string {
  return `dof_v1_${randomBytes(12).toString('hex')}:${randomBytes(32).toString('base64url')}`;
}

function transactionId(): string {
  return randomUUID().replace(/-/g, '');
}

async function readBuilds(project: Project): Promise<Map<string, FunctionBuild>> {
  const builds = new Map<string, FunctionBuild>();
  for (const fn of project.functions) {
    const file = bundlePath(fn);
    if (!existsSync(file)) throw new Error(`${fn.qualifiedName}: ${file} is missing; run the build first`);
    const bytes = await readFile(file);
    builds.set(fn.qualifiedName, { fn, code: bytes.toString('utf8'), buildId: buildIdOf(bytes) });
  }
  return builds;
}

/** Compiles the worker program once per runtime; it runs outside this module graph. */
async function compileActionProxy(directory: string): Promise<string> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const source = ['action-proxy.ts', 'action-proxy.js'].map((name) => path.join(here, name)).find((file) => existsSync(file));
  if (source === undefined) throw new Error(`action proxy source not found beside ${here}`);
  const outfile = path.join(directory, 'action-proxy.cjs');
  await esbuild({ entryPoints: [source], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' });
  return outfile;
}

function providesApiKey(fn: FunctionSpec): boolean {
  // DigitalOcean gives `__OW_API_KEY` only to functions with this annotation (docs/platform-facts.md
  // "Invoking a function from another"); Apache OpenWhisk defaults to giving it.
  return fn.annotations['provide-api-key'] === true;
}

function outcomeToResponse(outcome: RunOutcome, fn: FunctionSpec): { kind: ActivationOutcome; result: Record<string, unknown> } {
  switch (outcome.kind) {
    case 'result':
      // An `error` field in the result makes it an application error (ActivationResponse.processRunResponseContent).
      return { kind: 'error' in outcome.result ? 'applicationError' : 'success', result: outcome.result };
    case 'resultTooLarge':
      // An application error, not a developer one: the container stays warm (ActivationResult.scala).
      return { kind: 'applicationError', result: { error: truncatedResultMessage(outcome.bytes, outcome.trunk) } };
    case 'developerError':
      return { kind: 'developerError', result: { error: outcome.message } };
    case 'timeout':
      return {
        kind: 'developerError',
        result: { error: `The action exceeded its time limits of ${fn.timeoutMs} milliseconds${outcome.initializing ? ' during initialization.' : '.'}` },
      };
    case 'memoryExhausted':
      return { kind: 'developerError', result: { error: memoryExhaustedMessage } };
    case 'crashed':
      return { kind: 'developerError', result: { error: 'The action did not produce a valid response and exited unexpectedly.' } };
  }
}

export async function startFunctionsRuntime(options: FunctionsRuntimeOptions): Promise<FunctionsRuntime> {
  const namespace = options.namespace ?? defaultNamespace;
  const apiKey = options.apiKey ?? `${randomUUID()}:${randomBytes(32).toString('base64url')}`;
  const [accessKey = newAccessKey(), ...moreAccessKeys] = options.accessKeys ?? [];
  const acceptedKeys = [accessKey, ...moreAccessKeys, ...(options.acceptActivationKeys ? [apiKey] : [])].map((key) => Buffer.from(key));
  const log = options.log ?? (() => undefined);
  const runTriggers = options.triggers ?? true;
  const limits = new NamespaceLimits(
    options.maxConcurrentActivations ?? defaultMaxConcurrentActivations,
    options.maxInvocationsPerMinute ?? defaultMaxInvocationsPerMinute,
  );
  const activations = new ActivationStore();
  const workers = new Set<Worker>();
  const pending = new Set<Promise<ActivationRecord>>();
  let crons: Cron[] = [];
  let stopped = false;

  let builds = await readBuilds(options.project);
  const workDir = await mkdtemp(path.join(tmpdir(), 'sluice-functions-'));
  const proxyScript = await compileActionProxy(workDir);
  // Never silently more lenient than the platform: say so where the memory limit cannot be enforced.
  if (!canReadProcessMemory) log('functions: /proc/<pid>/status is not readable here, so limits.memory is not enforced');
  let apiHost = '';

  function retire(worker: Worker): void {
    worker.retired = true;
    if (!worker.busy) {
      workers.delete(worker);
      void worker.kill();
    }
  }

  /** A warm idle worker of this build, reserved at once so no other activation takes it. */
  function takeWarmWorker(build: FunctionBuild): Worker | undefined {
    for (const worker of workers) {
      if (worker.build === build && !worker.busy && !worker.retired && worker.alive) {
        worker.busy = true;
        return worker;
      }
    }
    return undefined;
  }

  async function execute(build: FunctionBuild, params: Record<string, unknown>, activationId: string, acceptedAt: number): Promise<ActivationRecord> {
    const { fn } = build;
    const logs = new ActivationLogs();
    let worker = takeWarmWorker(build);
    let outcome: RunOutcome | 'unprovisioned';
    let start = Date.now();
    let initMs: number | undefined;
    if (worker === undefined) {
      try {
        const spawned = await Worker.spawn(proxyScript, build, { apiHost, cwd: workDir });
        if (stopped) {
          await spawned.kill();
        } else {
          spawned.busy = true;
          workers.add(spawned);
          worker = spawned;
          log(`functions: started worker pid ${spawned.pid} for ${fn.qualifiedName} (build ${build.buildId})`);
        }
      } catch (error) {
        log(`functions: ${String(error)}`);
      }
    }
    if (worker === undefined) {
      outcome = 'unprovisioned';
    } else {
      start = Date.now();
      const context: RunContext = {
        namespace,
        action_name: `/${namespace}/${fn.qualifiedName}`,
        action_version: build.buildId,
        activation_id: activationId,
        transaction_id: transactionId(),
        deadline: String(start + fn.timeoutMs),
        ...(providesApiKey(fn) ? { api_key: apiKey } : {}),
      };
      outcome = await worker.activate(params, context, fn.environment, fn.timeoutMs, (line) => logs.add(line));
      if ('initMs' in outcome) initMs = outcome.initMs;
      // A worker of a replaced build, or one that failed, takes no further activations.
      if (worker.retired || builds.get(fn.qualifiedName) !== build || stopped) retire(worker);
    }
    const end = Date.now();
    const response =
      outcome === 'unprovisioned'
        ? { kind: 'whiskError' as const, result: { error: 'Failed to provision resources to run the action.' } }
        : outcomeToResponse(outcome, fn);
    const annotations: ActivationAnnotation[] = [
      { key: 'path', value: `${namespace}/${fn.qualifiedName}` },
      { key: 'kind', value: fn.runtime },
      { key: 'limits', value: { timeout: fn.timeoutMs, memory: fn.memoryMb, logs: logLimitMb, concurrency: 1 } },
      { key: 'waitTime', value: start - acceptedAt },
      ...(initMs === undefined ? [] : [{ key: 'initTime', value: initMs }]),
      { key: 'timeout', value: outcome !== 'unprovisioned' && outcome.kind === 'timeout' },
      { key: 'buildId', value: build.buildId },
      ...(worker === undefined ? [] : [{ key: 'workerPid', value: worker.pid }]),
    ];
    const status = activationStatus[response.kind];
    const record: ActivationRecord = {
      activationId,
      namespace,
      name: fn.name,
      version: build.buildId,
      subject: namespace,
      start,
      end,
      duration: end - start,
      response: { status: status.status, statusCode: status.statusCode, success: response.kind === 'success', result: response.result },
      logs: logs.lines,
      annotations,
      publish: false,
    };
    activations.put(record);
    log(`functions: ${fn.qualifiedName} ${activationId} build ${build.buildId} ${status.status} ${record.duration} ms`);
    return record;
  }

  /** Admits and starts an activation; throws InvokeError for an unknown function or past the limits. */
  function startActivation(name: string, params: Record<string, unknown>): { activationId: string; done: Promise<ActivationRecord>; build: FunctionBuild } {
    if (stopped) throw new InvokeError(503, 'The functions runtime has stopped.');
    const build = builds.get(name);
    if (build === undefined) throw new InvokeError(404, 'The requested resource does not exist.');
    const admitted = limits.admit();
    if (!admitted.ok) throw new InvokeError(429, admitted.message);
    const activationId = newActivationId();
    const done = execute(build, params, activationId, Date.now()).finally(() => {
      limits.release();
      pending.delete(done);
    });
    pending.add(done);
    return { activationId, done, build };
  }

  /** Request params on top of the function's; declared parameters are final (OpenWhisk `final`). */
  function invocationParams(build: FunctionBuild, requested: Record<string, unknown>): Record<string, unknown> {
    if (Object.keys(requested).some((key) => key in build.fn.parameters)) {
      throw new InvokeError(400, 'Request defines parameters that are not allowed (e.g., reserved properties).');
    }
    return { ...build.fn.parameters, ...requested };
  }

  function scheduleTriggers(): void {
    for (const cron of crons) cron.stop();
    crons = [];
    if (!runTriggers) return;
    for (const build of builds.values()) {
      for (const trigger of build.fn.triggers) {
        if (!trigger.enabled) continue;
        const name = build.fn.qualifiedName;
        crons.push(
          new Cron(trigger.cron, { name: `${name}:${trigger.name}` }, () => {
            try {
              const current = builds.get(name);
              if (current === undefined) return;
              const { activationId } = startActivation(name, invocationParams(current, trigger.body));
              log(`functions: trigger ${trigger.name} fired ${name} (${activationId})`);
            } catch (error) {
              log(`functions: trigger ${trigger.name} of ${name} not fired: ${String(error)}`);
            }
          }),
        );
      }
    }
  }

  function reapIdleWorkers(): void {
    const now = Date.now();
    for (const worker of workers) {
      if (!worker.busy && (now - worker.lastUsedAt > idleWorkerTtlMs || !worker.alive)) retire(worker);
    }
  }
  const reaper = setInterval(reapIdleWorkers, idleWorkerSweepMs);
  reaper.unref();

  // ---- HTTP ----

  function authorized(request: IncomingMessage): boolean {
    const header = request.headers.authorization ?? '';
    const match = /^Basic\s+(.+)$/i.exec(header);
    if (!match?.[1]) return false;
    const given = Buffer.from(Buffer.from(match[1], 'base64').toString('utf8'));
    // Every key is compared (no early exit), each in constant time.
    return acceptedKeys.map((expected) => given.length === expected.length && timingSafeEqual(given, expected)).includes(true);
  }

  /**
   * The request body; past the payload limit, a 413 (controller Entities.scala and WebActions.scala
   * validateSize). Never stops reading part-way: destroying the request mid-upload resets the
   * connection, and the client sees ECONNRESET instead of the 413. A declared Content-Length past
   * the limit is answered at once, unread, and Node's server discards the rest of the upload once
   * the answer is sent. A body without one (chunked) is read to its end, keeping nothing past the
   * limit: OpenWhisk checks only the declared length, this is stricter and names the real size.
   */
  async function readBody(request: IncomingMessage): Promise<Buffer> {
    const declaredBytes = Number(request.headers['content-length']);
    if (declaredBytes > maxPayloadBytes) throw new InvokeError(413, requestTooLargeMessage(declaredBytes));
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= maxPayloadBytes) chunks.push(chunk);
    }
    if (size > maxPayloadBytes) throw new InvokeError(413, requestTooLargeMessage(size));
    return Buffer.concat(chunks);
  }

  function waitFor(done: Promise<ActivationRecord>, ms: number): Promise<ActivationRecord | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    return Promise.race([done, late]).finally(() => clearTimeout(timer));
  }

  async function handleRest(request: IncomingMessage, url: URL, segments: string[]): Promise<HttpReply> {
    const code = transactionId();
    if (!authorized(request)) return errorReply(401, 'The supplied authentication is invalid', code);
    const [ns, collection, ...rest] = segments;
    if (ns !== '_' && ns !== namespace) return errorReply(403, 'The supplied authentication is not authorized to access this resource.', code);

    if (collection === 'activations' && rest.length === 1 && request.method === 'GET') {
      const record = activations.get(rest[0] ?? '');
      return record ? json(200, record) : errorReply(404, 'The requested resource does not exist.', code);
    }
    if (collection !== 'actions' || rest.length !== 2) return errorReply(404, 'The requested resource does not exist.', code);
    if (request.method !== 'POST') return errorReply(405, 'HTTP method not allowed, supported methods: POST.', code);

    const name = rest.join('/');
    const body = await readBody(request);
    let requested: unknown = {};
    if (body.length > 0) {
      try {
        requested = JSON.parse(body.toString('utf8')) as unknown;
      } catch {
        return errorReply(400, 'The request content was malformed.', code);
      }
    }
    const parsed = paramsSchema.safeParse(requested);
    if (!parsed.success) return errorReply(400, 'The request content was malformed: the parameters must be a JSON object.', code);

    const build = builds.get(name);
    if (build === undefined) return errorReply(404, 'The requested resource does not exist.', code);
    const started = startActivation(name, invocationParams(build, parsed.data));
    const idHeader = { 'x-openwhisk-activation-id': started.activationId };
    if (url.searchParams.get('blocking') !== 'true') return json(202, { activationId: started.activationId }, idHeader);

    const record = await waitFor(started.done, blockingInvokeWaitMs);
    if (record === undefined) return json(202, { activationId: started.activationId }, idHeader);
    const payload = url.searchParams.get('result') === 'true' ? record.response.result : record;
    // Controller Actions.scala doInvoke: success 200, application and developer errors 502, internal 500.
    const status = record.response.success ? 200 : record.response.statusCode === activationStatus.whiskError.statusCode ? 500 : 502;
    return json(status, payload, idHeader);
  }

  async function handleWeb(request: IncomingMessage, url: URL, segments: string[]): Promise<HttpReply> {
    const code = transactionId();
    const [ns, pkg, fnName, ...sub] = segments;
    const build = ns === namespace && pkg && fnName ? builds.get(`${pkg}/${fnName}`) : undefined;
    if (build === undefined || build.fn.web === false) return errorReply(404, 'The requested resource does not exist.', code);

    const webRequest: WebRequest = {
      method: request.method ?? 'GET',
      subPath: sub.length > 0 ? `/${sub.join('/')}` : '',
      query: url.searchParams,
      headers: request.headers,
      body: Buffer.alloc(0),
      clientAddress: request.socket.remoteAddress ?? '',
    };
    const cors = delegatesCors(build.fn) ? corsHeaders(webRequest) : {};
    const withCors = (reply: HttpReply): HttpReply => ({ ...reply, headers: { ...reply.headers, ...cors } });

    if (!['GET', 'DELETE', 'POST', 'PUT', 'HEAD', 'OPTIONS', 'PATCH'].includes(webRequest.method)) {
      return errorReply(405, 'HTTP method not allowed.', code);
    }
    if (webRequest.method === 'OPTIONS' && delegatesCors(build.fn)) return defaultOptionsReply(webRequest);
    // Outside the try: a 413 carries no CORS headers, as WebActions.scala checks the size before adding them.
    webRequest.body = await readBody(request);

    try {
      const started = startActivation(build.fn.qualifiedName, webParams(build.fn, webRequest));
      const idHeader = { 'x-openwhisk-activation-id': started.activationId };
      const record = await waitFor(started.done, webResponseWaitMs);
      if (record === undefined) return withCors(errorReply(202, 'Response not yet ready.', code));
      const { result } = record.response;
      let reply: HttpReply;
      if (record.response.success) reply = resultToReply(result, code);
      // An application error's `error` value is itself the HTTP response (WebActions.scala completeRequest).
      else if (record.response.statusCode === activationStatus.applicationError.statusCode) reply = resultToReply(result.error, code);
      else reply = errorReply(400, 'There was an error processing your request.', code);
      return withCors({ ...reply, headers: { ...reply.headers, ...idHeader } });
    } catch (error) {
      if (error instanceof WebRequestError || error instanceof InvokeError) return withCors(errorReply(error.status, error.message, code));
      throw error;
    }
  }

  function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpReply {
    return { status, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify(value)) };
  }

  async function route(request: IncomingMessage): Promise<HttpReply> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    let segments: string[];
    try {
      segments = url.pathname.split('/').filter((segment) => segment !== '').map((segment) => decodeURIComponent(segment));
    } catch {
      // A malformed percent-escape (`%E0%A4%A`) is the client's error: pekko-http, the controller's
      // HTTP server, refuses an incomplete escape with 400 before OpenWhisk routes it. Escapes that
      // are complete but not UTF-8 get 400 too, which is stricter (it may decode them to U+FFFD).
      return errorReply(400, 'Illegal request-target: malformed percent-encoding in the path.', transactionId());
    }
    const [api, v1, kind, ...rest] = segments;
    if (api === 'api' && v1 === 'v1' && kind === 'web') return handleWeb(request, url, rest);
    if (api === 'api' && v1 === 'v1' && kind === 'namespaces') return handleRest(request, url, rest);
    return errorReply(404, 'The requested resource does not exist.', transactionId());
  }

  function send(response: ServerResponse, reply: HttpReply, head: boolean): void {
    response.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
    response.end(head ? undefined : reply.body);
  }

  const server: Server = createServer((request, response) => {
    route(request)
      .catch((error: unknown) => {
        if (error instanceof InvokeError) return errorReply(error.status, error.message, transactionId());
        log(`functions: request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        return errorReply(500, 'Internal server error.', transactionId());
      })
      .then((reply) => send(response, reply, request.method === 'HEAD'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  apiHost = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
  scheduleTriggers();

  async function invoke(name: string, params: object = {}, invokeOptions: InvokeOptions = {}): Promise<ActivationRecord | { activationId: string }> {
    const parsed = paramsSchema.safeParse(params);
    if (!parsed.success) throw new InvokeError(400, 'The parameters must be a JSON object.');
    // Measured as the REST API measures them: the bytes of their JSON, as a request body would carry them.
    const paramsBytes = Buffer.byteLength(JSON.stringify(parsed.data));
    if (paramsBytes > maxPayloadBytes) throw new InvokeError(413, requestTooLargeMessage(paramsBytes));
    const build = builds.get(name);
    if (build === undefined) throw new InvokeError(404, 'The requested resource does not exist.');
    const started = startActivation(name, invocationParams(build, parsed.data));
    if (invokeOptions.blocking === false) return { activationId: started.activationId };
    return started.done;
  }

  return {
    apiHost,
    namespace,
    apiKey,
    accessKey,
    webBase: `${apiHost}/api/v1/web/${namespace}`,
    async deploy(project: Project): Promise<void> {
      const next = await readBuilds(project);
      // Checked after the read, which a stop may overtake: a stopped runtime must not re-arm triggers.
      if (stopped) throw new InvokeError(503, 'The functions runtime has stopped.');
      for (const [name, build] of next) {
        const previous = builds.get(name);
        // An unchanged function keeps its warm workers, as the platform reuses a version's containers.
        if (previous && previous.buildId === build.buildId && JSON.stringify(previous.fn) === JSON.stringify(build.fn)) next.set(name, previous);
      }
      builds = next;
      // Idle workers of replaced builds stop now; busy ones finish their activation on the old code first.
      for (const worker of workers) if (builds.get(worker.build.fn.qualifiedName) !== worker.build) retire(worker);
      scheduleTriggers();
      log(`functions: deployed ${[...builds.values()].map((build) => `${build.fn.qualifiedName}@${build.buildId}`).join(', ')}`);
    },
    invoke: invoke as FunctionsRuntime['invoke'],
    activation: (id: string) => activations.get(id),
    async stop(stopOptions: StopOptions = {}): Promise<void> {
      if (stopped) return;
      // From here startActivation refuses every invocation (REST, web, triggers) with 503.
      stopped = true;
      clearInterval(reaper);
      for (const cron of crons) cron.stop();
      crons = [];
      const graceMs = stopOptions.graceMs ?? 0;
      if (graceMs > 0 && pending.size > 0) {
        // The server stays up meanwhile: a running activation's own calls (a dispatch, a status
        // poll) get an answer — 503 for new work — instead of a refused connection.
        log(`functions: stopping: no new activations; waiting up to ${graceMs} ms for ${pending.size} running`);
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([
          Promise.allSettled([...pending]).then(() => true),
          new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
        ]);
        clearTimeout(timer);
        if (!finished) log(`functions: stopping: ${pending.size} activations still running after ${graceMs} ms; killing them`);
      }
      server.closeAllConnections();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...workers].map((worker) => worker.kill()));
      workers.clear();
      await Promise.allSettled([...pending]);
      await closed;
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
