// Activation records in the shape the OpenWhisk REST API returns them
// (`GET /api/v1/namespaces/<ns>/activations/<id>`; apache/openwhisk WhiskActivation.toExtendedJson
// and ActivationResponse: status codes 0–3 with their messages).
import { randomUUID } from 'node:crypto';
import { logsTruncatedMessage, maxLogBytes } from './limits.js';

export const activationStatus = {
  success: { statusCode: 0, status: 'success' },
  applicationError: { statusCode: 1, status: 'application error' },
  developerError: { statusCode: 2, status: 'action developer error' },
  whiskError: { statusCode: 3, status: 'whisk internal error' },
} as const;

export type ActivationOutcome = keyof typeof activationStatus;

export interface ActivationAnnotation {
  key: string;
  value: unknown;
}

export interface ActivationRecord {
  activationId: string;
  /** The namespace that ran it. */
  namespace: string;
  /** The function's own name; the annotation `path` has `<namespace>/<package>/<function>`. */
  name: string;
  /** The build (bundle content hash) that ran it; DigitalOcean puts the action's semver here. */
  version: string;
  subject: string;
  /** Epoch ms. */
  start: number;
  /** Epoch ms; 0 while running. */
  end: number;
  duration: number;
  response: {
    status: string;
    statusCode: number;
    success: boolean;
    /** The function's result; for errors `{error: …}`. */
    result: Record<string, unknown>;
  };
  /** `<ISO time> stdout|stderr: <line>`, as `doctl serverless activations logs` shows them. */
  logs: string[];
  annotations: ActivationAnnotation[];
  publish: false;
}

/** One line a worker printed. */
export interface LogLine {
  /** ISO time it arrived. */
  time: string;
  stream: 'stdout' | 'stderr';
  log: string;
}

/**
 * An activation's log lines, cut at the limit as the invoker cuts them (KubernetesContainer.logs):
 * each line weighs its JSON form `{"time","stream","log"}` plus a newline, whole lines are kept
 * while the total stays within the limit, and the line that passes it, and every later one, is
 * replaced by one truncation notice on stderr.
 */
export class ActivationLogs {
  readonly lines: string[] = [];
  private bytes = 0;
  private truncated = false;

  add(line: LogLine): void {
    if (this.truncated) return;
    this.bytes += Buffer.byteLength(JSON.stringify(line)) + 1;
    if (this.bytes <= maxLogBytes) {
      this.lines.push(formatLogLine(line));
      return;
    }
    this.truncated = true;
    this.lines.push(formatLogLine({ time: new Date().toISOString(), stream: 'stderr', log: logsTruncatedMessage }));
  }
}

function formatLogLine(line: LogLine): string {
  return `${line.time} ${line.stream}: ${line.log}`;
}

/** OpenWhisk activation ids are 32 hex digits. */
export function newActivationId(): string {
  return randomUUID().replace(/-/g, '');
}

/** Kept in memory for the runtime's life; the oldest are dropped past this many. */
const retainedActivations = 10_000;

export class ActivationStore {
  private readonly records = new Map<string, ActivationRecord>();

  get(id: string): ActivationRecord | undefined {
    return this.records.get(id);
  }

  /** Records a finished activation. */
  put(record: ActivationRecord): void {
    this.records.set(record.activationId, record);
    if (this.records.size > retainedActivations) {
      const oldest = this.records.keys().next().value;
      if (oldest !== undefined) this.records.delete(oldest);
    }
  }
}
