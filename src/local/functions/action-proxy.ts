// The program each local worker process runs: a small OpenWhisk action proxy, speaking the same
// protocol as the container of the real Node.js runtime (apache/openwhisk-runtime-nodejs,
// docs/platform-facts.md "Invoking a function from another"):
//   POST /init {value: {name, main, code, binary, env}}  once per process
//   POST /run  {value: params, namespace, action_name, action_version, activation_id,
//               transaction_id, deadline, api_key?}      once per activation
// so a bundle that runs here runs there. It is compiled with esbuild when the runtime starts and
// spawned with the parent's Node; it reports its port to the parent over the IPC channel.
//
// It is self-contained on purpose (node: built-ins and protocol.ts only): it runs outside the project's module
// graph, like the real runtime, which knows nothing of the function's dependencies.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { runInThisContext } from 'node:vm';
import { activationEndSentinel } from './protocol.js';

type Handler = (params: Record<string, unknown>) => unknown;

interface ProxyReply {
  status: number;
  body: unknown;
}

let handler: Handler | undefined;
let initializing = false;
/** The real runtime stops accepting work after an unhandled (synchronous) throw; so does this. */
let stopped = false;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorReply(status: number, message: string): ProxyReply {
  return { status, body: { error: message } };
}

function writeMarkers(): void {
  process.stdout.write(`${activationEndSentinel}\n`);
  process.stderr.write(`${activationEndSentinel}\n`);
}

/**
 * Evaluates the single-file CommonJS bundle with its own module/exports/require and returns its
 * entry point: a top-level binding named `main` if there is one, else `module.exports[main]`
 * (the same two places the real runtime looks).
 */
function loadHandler(name: string, main: string, code: string): Handler {
  if (!/^[A-Za-z_$][\w$]*$/.test(main)) throw new Error(`Name of main function is not valid: '${main}'.`);
  const filename = path.resolve(`${name || 'action'}.js`);
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${code}\n;return typeof ${main} === 'undefined' ? undefined : ${main};})`;
  const factory = runInThisContext(wrapper, { filename }) as (
    exports: unknown,
    require: NodeJS.Require,
    module: { exports: Record<string, unknown> },
    filename: string,
    dirname: string,
  ) => unknown;
  const module = { exports: {} as Record<string, unknown> };
  const local = factory(module.exports, createRequire(filename), module, filename, path.dirname(filename));
  const entry = typeof local === 'function' ? local : module.exports[main];
  if (typeof entry !== 'function') throw new Error(`Action entrypoint '${main}' is not a function.`);
  return entry as Handler;
}

function init(body: unknown): ProxyReply {
  if (handler !== undefined) return errorReply(403, 'Cannot initialize the action more than once.');
  if (initializing || stopped) return errorReply(403, 'System not ready.');
  const message = isRecord(body) && isRecord(body.value) ? body.value : {};
  const { name, main, code, binary, env } = message;
  if (typeof main !== 'string' || typeof code !== 'string' || main === '' || code === '') {
    return errorReply(403, 'Missing main/no code to execute.');
  }
  if (binary === true) return errorReply(502, 'Initialization has failed due to: this local proxy runs single-file actions only.');
  initializing = true;
  try {
    if (isRecord(env)) {
      for (const [key, value] of Object.entries(env)) {
        process.env[key] = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? '');
      }
    }
    handler = loadHandler(typeof name === 'string' ? name : 'action', main, code);
    return { status: 200, body: { OK: true } };
  } catch (error) {
    stopped = true;
    console.error('Error during initialization:', error);
    writeMarkers();
    const detail = error instanceof Error && error.stack ? error.stack : String(error);
    return errorReply(502, `Initialization has failed due to: ${detail}`);
  } finally {
    initializing = false;
  }
}

/** A rejected promise becomes `{error: <serialized error>}`, an application error, as in the real runtime. */
function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error ?? {};
  const plain: Record<string, unknown> = { name: error.name, message: error.message };
  if (error.stack) plain.stack = error.stack;
  for (const [key, value] of Object.entries(error)) plain[key] = value;
  return plain;
}

async function run(body: unknown): Promise<ProxyReply> {
  if (handler === undefined || stopped) return errorReply(403, handler ? 'System not ready.' : 'System not initialized.');
  const message = isRecord(body) ? body : {};
  const value = message.value ?? {};
  if (!isRecord(value)) return errorReply(403, `Internal system error: the argument must be a dictionary but has type '${typeof value}'.`);
  // Every per-activation string field becomes an __OW_ variable (activation_id → __OW_ACTIVATION_ID, …).
  for (const [key, field] of Object.entries(message)) {
    if (key !== 'value' && typeof field === 'string') process.env[`__OW_${key.toUpperCase()}`] = field;
  }
  if (typeof message.api_key !== 'string') delete process.env.__OW_API_KEY;

  let pending: unknown;
  try {
    pending = handler(value);
  } catch (error) {
    // A synchronous throw is a developer error and leaves the process unusable (the parent discards it).
    stopped = true;
    console.error(error);
    writeMarkers();
    return errorReply(502, `An error has occurred: ${String(error)}`);
  }
  let result: unknown;
  try {
    result = (await pending) ?? {};
  } catch (error) {
    result = { error: serializeError(error) };
  }
  if (typeof result !== 'object' || result === null) {
    console.error(`Result must be of type object but has type "${typeof result}":`, result);
    writeMarkers();
    return errorReply(502, 'The action did not return a dictionary.');
  }
  writeMarkers();
  return { status: 200, body: result };
}

/** Matches the real runtime's request body limit for params (docs/platform-facts.md: params ≤ 1 MB, plus code). */
const maxRequestBytes = 50 * 1024 * 1024;

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxRequestBytes) throw new Error('request too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? {} : (JSON.parse(text) as unknown);
}

function send(response: ServerResponse, reply: ProxyReply): void {
  const text = JSON.stringify(reply.body);
  response.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

const server = createServer((request, response) => {
  const route = `${request.method ?? ''} ${request.url ?? ''}`;
  readJson(request)
    .then(async (body) => {
      if (route === 'POST /init') return init(body);
      if (route === 'POST /run') return run(body);
      return errorReply(404, 'Not found.');
    })
    .then(
      (reply) => send(response, reply),
      (error: unknown) => send(response, errorReply(400, `Bad request: ${String(error)}`)),
    );
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string' || process.send === undefined) {
    console.error('action proxy: no IPC channel or no TCP address');
    process.exit(1);
  }
  process.send({ port: address.port });
});

// The parent going away (crash, SIGKILL) closes the IPC channel: never outlive it.
process.on('disconnect', () => process.exit(0));
