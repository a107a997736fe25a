// A fault-injecting HTTP proxy for putting in front of the local S3 server, so tests (and the chaos
// suite) can make storage misbehave the way a real store or network does, without any hook in
// production code: point SPACES_ENDPOINT at `proxy.url` and every function, presigned URL and SDK
// client goes through it.
//
//   const proxy = await startFaultyProxy({ target: spaces.endpoint });
//   const stall = proxy.inject({ method: 'GET', path: objectKey, fault: { kind: 'stall-body', afterBytes: 64 * 1024 } });
//   … start the work …
//   await stall.applied();          // an event, never a sleep
//   proxy.requests                  // what arrived (method, path, headers), e.g. a resumed GET's Range
//
// Requests pass through untouched unless a rule matches: the Host header is kept, so SigV4
// signatures made for the proxy's address verify at the server behind it. Rules are tried in the
// order they were added; the first matching rule with uses left applies its fault, once per
// request, `times` times (default once).
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startLocalSpaces, type LocalSpaces } from '../../src/local/spaces.js';

export type Fault =
  /** Accept the request and never answer: a hung HEAD, or a GET that never starts. */
  | { kind: 'stall' }
  /** Forward the answer's headers and its first `afterBytes` body bytes, then send nothing more. */
  | { kind: 'stall-body'; afterBytes: number }
  /**
   * Break the connection. Without `afterBytes`: reset it (TCP RST) before any answer. With it:
   * close it after the headers and that many body bytes, so the client sees the body cut short
   * (a reset there could discard bytes already sent, and the client might never see the headers).
   */
  | { kind: 'reset'; afterBytes?: number }
  /** Answer 503 SlowDown, as Spaces does when throttling; the server behind never sees the request. */
  | { kind: 'slow-down' }
  /** Hold the request until `until` settles, then forward it as usual. */
  | { kind: 'delay'; until: Promise<unknown> };

export interface FaultRule {
  /** HTTP method to match (any when absent). */
  method?: string;
  /** Matches the request path (query excluded, percent-decoded): a substring, or a RegExp. Any when absent. */
  path?: string | RegExp;
  /** Matches on request headers (lower-case names), e.g. `(h) => h.range !== undefined` for resumed reads. */
  headers?: (headers: http.IncomingHttpHeaders) => boolean;
  fault: Fault;
  /** Requests that get the fault before the rule is used up; default 1, `Infinity` for all. */
  times?: number;
}

export interface InjectedFault {
  /** Requests this rule has applied its fault to so far. */
  readonly hits: number;
  /** Resolves once the fault has been applied `count` times (default 1). */
  applied(count?: number): Promise<void>;
  /** Applies to no further request; exchanges it already holds stay held until the client gives up or the proxy stops. */
  remove(): void;
}

export interface ProxiedRequest {
  method: string;
  /** Percent-decoded path, without the query. */
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The fault applied to it, if any. */
  fault?: Fault['kind'];
}

export interface FaultyProxy {
  /** http://127.0.0.1:<port>: use it as SPACES_ENDPOINT. */
  url: string;
  inject(rule: FaultRule): InjectedFault;
  /** Every request that arrived, in order. */
  readonly requests: readonly ProxiedRequest[];
  /** Removes every rule and cuts the exchanges held by stalls, as if the store came back. */
  clear(): void;
  stop(): Promise<void>;
}

export interface FaultyProxyOptions {
  /** The server behind the proxy, e.g. the local S3 server's endpoint. */
  target: string;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and `expect`, which the proxy answers itself (Node sends 100 Continue). */
const notForwarded = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'expect', 'te', 'trailer']);

const slowDownBody =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

interface Rule {
  match: FaultRule;
  left: number;
  hits: number;
  waiters: { count: number; resolve: () => void }[];
}

export async function startFaultyProxy(options: FaultyProxyOptions): Promise<FaultyProxy> {
  const target = new URL(options.target);
  const rules: Rule[] = [];
  const requests: ProxiedRequest[] = [];
  /** Sockets of exchanges a stall holds, cut by clear() and stop(). */
  const held = new Set<Socket>();
  const sockets = new Set<Socket>();

  const take = (request: ProxiedRequest): Fault | undefined => {
    const rule = rules.find((candidate) => candidate.left > 0 && matches(candidate.match, request));
    if (rule === undefined) return undefined;
    rule.left -= 1;
    rule.hits += 1;
    for (const waiter of rule.waiters.filter((entry) => entry.count <= rule.hits)) waiter.resolve();
    rule.waiters = rule.waiters.filter((entry) => entry.count > rule.hits);
    return rule.match.fault;
  };

  const server = http.createServer((incoming, outgoing) => {
    const url = new URL(incoming.url ?? '/', 'http://proxy');
    const request: ProxiedRequest = { method: incoming.method ?? '', path: decodeURIComponent(url.pathname), headers: incoming.headers };
    requests.push(request);
    const fault = take(request);
    if (fault !== undefined) request.fault = fault.kind;
    void exchange(incoming, outgoing, fault).catch(() => {
      // The client or the server behind went away mid-exchange: nothing left to answer.
      outgoing.socket?.destroy();
    });
  });

  const hold = (socket: Socket | null): void => {
    if (socket === null) return;
    held.add(socket);
    socket.once('close', () => held.delete(socket));
  };

  const exchange = async (incoming: http.IncomingMessage, outgoing: http.ServerResponse, fault: Fault | undefined): Promise<void> => {
    if (fault?.kind === 'stall') {
      incoming.resume();
      hold(outgoing.socket);
      return;
    }
    if (fault?.kind === 'reset' && fault.afterBytes === undefined) {
      outgoing.socket?.resetAndDestroy();
      return;
    }
    if (fault?.kind === 'slow-down') {
      incoming.resume();
      outgoing.writeHead(503, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(slowDownBody) });
      outgoing.end(slowDownBody);
      return;
    }
    if (fault?.kind === 'delay') await fault.until.catch(() => undefined);

    const headers = Object.fromEntries(Object.entries(incoming.headers).filter(([name]) => !notForwarded.has(name)));
    const upstream = http.request({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers, agent: false });
    incoming.pipe(upstream);
    const [answer] = (await once(upstream, 'response')) as [http.IncomingMessage];
    outgoing.writeHead(answer.statusCode ?? 502, answer.statusMessage, answerHeaders(answer));
    const limit = fault?.kind === 'stall-body' || fault?.kind === 'reset' ? (fault.afterBytes ?? 0) : Number.POSITIVE_INFINITY;
    let sent = 0;
    if (limit === 0) outgoing.flushHeaders();
    for await (const chunk of answer as AsyncIterable<Buffer>) {
      const piece = sent + chunk.length > limit ? chunk.subarray(0, limit - sent) : chunk;
      if (piece.length > 0 && !outgoing.write(piece)) await once(outgoing, 'drain');
      sent += piece.length;
      if (sent >= limit) break;
    }
    if (sent < limit) {
      outgoing.end();
      return;
    }
    answer.destroy();
    if (fault?.kind === 'reset') outgoing.socket?.end();
    else hold(outgoing.socket);
  };

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Large uploads pass through: no request time limit of the proxy's own.
  server.requestTimeout = 0;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    inject(match) {
      const rule: Rule = { match, left: match.times ?? 1, hits: 0, waiters: [] };
      rules.push(rule);
      return {
        get hits() {
          return rule.hits;
        },
        applied(count = 1) {
          if (rule.hits >= count) return Promise.resolve();
          return new Promise((resolve) => rule.waiters.push({ count, resolve }));
        },
        remove() {
          rule.left = 0;
        },
      };
    },
    clear() {
      for (const rule of rules) rule.left = 0;
      rules.length = 0;
      for (const socket of held) socket.destroy();
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function matches(rule: FaultRule, request: ProxiedRequest): boolean {
  if (rule.method !== undefined && rule.method.toUpperCase() !== request.method) return false;
  if (typeof rule.path === 'string' && !request.path.includes(rule.path)) return false;
  if (rule.path instanceof RegExp && !rule.path.test(request.path)) return false;
  if (rule.headers !== undefined && !rule.headers(request.headers)) return false;
  return true;
}

/** The answer's headers minus hop-by-hop ones; a body cut short keeps its full Content-Length, as a stalled store's would. */
function answerHeaders(answer: http.IncomingMessage): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !notForwarded.has(name)));
}

export interface ProxiedSpaces {
  spaces: LocalSpaces;
  /** Where the S3 server keeps its files (`<directory>/<bucket>/…`). */
  directory: string;
  proxy: FaultyProxy;
  /** The Spaces settings for startTestPlatform / startProcessingPlatform: the functions reach the bucket through the proxy. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** The local S3 server in a temporary folder, with a faulty proxy in front of it. */
export async function startProxiedSpaces(options: { bucket?: string } = {}): Promise<ProxiedSpaces> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'sluice-proxied-spaces-'));
  const spaces = await startLocalSpaces({ directory, bucket: options.bucket ?? 'sluice-faults', allowedOrigins: [] });
  const proxy = await startFaultyProxy({ target: spaces.endpoint });
  return {
    spaces,
    directory,
    proxy,
    env: {
      SPACES_ENDPOINT: proxy.url,
      SPACES_REGION: spaces.region,
      SPACES_BUCKET: spaces.bucket,
      SPACES_KEY: spaces.accessKeyId,
      SPACES_SECRET: spaces.secretAccessKey,
    },
    async stop() {
      await proxy.stop();
      await spaces.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
