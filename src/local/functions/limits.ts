// Namespace-wide activation limits (DigitalOcean docs, Functions limits: 120 concurrent
// activations and 600 invocations per minute per namespace). Past either, the invoke API and web
// functions answer 429 with OpenWhisk's messages (apache/openwhisk http/ErrorResponse.scala).

export const defaultMaxConcurrentActivations = 120;
export const defaultMaxInvocationsPerMinute = 600;
const rateWindowMs = 60_000;

export class NamespaceLimits {
  private inFlight = 0;
  /** Acceptance times (epoch ms) within the last minute, oldest first. */
  private accepted: number[] = [];

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxPerMinute: number,
  ) {}

  /** Counts one activation in if both limits allow it; otherwise returns the 429 message. */
  admit(now = Date.now()): { ok: true } | { ok: false; message: string } {
    while (this.accepted.length > 0 && (this.accepted[0] ?? now) <= now - rateWindowMs) this.accepted.shift();
    if (this.accepted.length >= this.maxPerMinute) {
      return { ok: false, message: `Too many requests in the last minute (count: ${this.accepted.length + 1}, allowed: ${this.maxPerMinute}).` };
    }
    if (this.inFlight >= this.maxConcurrent) {
      return { ok: false, message: `Too many concurrent requests in flight (count: ${this.inFlight + 1}, allowed: ${this.maxConcurrent}).` };
    }
    this.accepted.push(now);
    this.inFlight += 1;
    return { ok: true };
  }

  /** An admitted activation has ended (whatever its outcome). */
  release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }
}

// Per-activation limits (DigitalOcean docs: Functions limits), with the messages apache/openwhisk
// gives when one is passed (common/scala/.../http/ErrorResponse.scala `Messages`).

/**
 * Params and results: at most 1 MB each (DigitalOcean docs: Functions limits), counted as OpenWhisk
 * does: bytes of the request body, and of the result as the action proxy serializes it (apache/openwhisk
 * application.conf `whisk.activation.payload.max = 1 m`; PekkoContainerClient compares the
 * response's Content-Length with it).
 */
export const maxPayloadBytes = 1024 * 1024;
/** How much of an oversized result the record keeps (application.conf `whisk.activation.payload.truncation = 1 m`). */
export const truncatedResultBytes = 1024 * 1024;
/** Log output kept per activation: "Up to 256 KB of logs per invocation" (DigitalOcean docs: Functions limits). */
export const maxLogBytes = 256 * 1024;

/** The controller's 413 for a body past the limit: `Messages.entityTooBig(SizeError("Request", …))` (controller Entities.scala). */
export function requestTooLargeMessage(bytes: number): string {
  return `Request larger than allowed: ${bytes} > ${maxPayloadBytes} bytes.`;
}

/** `Messages.truncatedResponse(trunk, length, maxLength)`: the application error of an oversized result (ActivationResult.scala). */
export function truncatedResultMessage(bytes: number, trunk: string): string {
  return `The action produced a response that exceeded the allowed length: ${bytes} > ${maxPayloadBytes} bytes. The truncated response was: ${trunk}`;
}

/** `Messages.truncateLogs(limit)`: the last log line of an activation whose logs were cut. */
export const logsTruncatedMessage = `Logs were truncated because the total bytes size exceeds the limit of ${maxLogBytes} bytes.`;

/** `Messages.memoryExhausted`: the developer error of an activation whose container passed its memory limit. */
export const memoryExhaustedMessage = 'The action exhausted its memory and was aborted.';
