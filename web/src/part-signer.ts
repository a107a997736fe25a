// Part URLs for Uppy's `signPart`, signed in batches: Uppy asks for one part at a time, but one
// `parts` call per part would be one function invocation per 8 MiB, and a namespace allows 600
// invocations a minute (docs/platform-facts.md "Functions limits"). So a part that needs a URL signs
// itself and the next few in upload order, concurrent askers share the request, and each URL is
// handed out once: a retry after an expired signature (403) gets a fresh one.
import { nextSignBatch, type PartsResponse, type SignedPart } from '../../src/client/index.js';

/** URLs signed per `parts` call: a few rounds of Uppy's parallel parts, used long before they expire. */
export const signBatchSize = 16;
/** A URL this close to its expiry is signed again rather than risked on a slow start. */
const expiryMarginMs = 30_000;

interface ReadyUrl {
  part: SignedPart;
  expiresAtMs: number;
}

export class PartSigner {
  private readonly ready = new Map<number, ReadyUrl>();
  private readonly pending = new Map<number, Promise<void>>();
  /** Parts already stored or already given a URL: never signed ahead again. */
  private readonly settled = new Set<number>();
  private readonly order: number[];

  constructor(
    private readonly sign: (partNumbers: number[]) => Promise<PartsResponse>,
    partCount: number,
  ) {
    this.order = Array.from({ length: partCount }, (_, index) => index + 1);
  }

  /** Parts the store already holds (from `listParts` on resume). */
  markStored(partNumbers: Iterable<number>): void {
    for (const partNumber of partNumbers) this.settled.add(partNumber);
  }

  async get(partNumber: number): Promise<SignedPart> {
    const inflight = this.pending.get(partNumber);
    // A failed batch is not this part's failure: it signs on its own below.
    if (inflight !== undefined) await inflight.catch(() => undefined);
    const ready = this.take(partNumber, false);
    if (ready !== undefined) return ready;

    const batch = nextSignBatch(this.order, partNumber, (candidate) => this.worthSigning(candidate), signBatchSize);
    const request = this.signBatch(batch);
    for (const number of batch) this.pending.set(number, request);
    try {
      await request;
    } finally {
      for (const number of batch) if (this.pending.get(number) === request) this.pending.delete(number);
    }
    // Just signed: used even if the clocks disagree about its expiry, so this cannot loop.
    const signed = this.take(partNumber, true);
    if (signed === undefined) throw new Error(`presign/parts did not sign part ${partNumber}.`);
    return signed;
  }

  private worthSigning(partNumber: number): boolean {
    return !this.settled.has(partNumber) && !this.pending.has(partNumber) && !this.ready.has(partNumber);
  }

  private take(partNumber: number, fresh: boolean): SignedPart | undefined {
    const ready = this.ready.get(partNumber);
    if (ready === undefined) return undefined;
    this.ready.delete(partNumber);
    if (!fresh && ready.expiresAtMs - expiryMarginMs <= Date.now()) return undefined;
    this.settled.add(partNumber);
    return ready.part;
  }

  private async signBatch(partNumbers: number[]): Promise<void> {
    const response = await this.sign(partNumbers);
    const parsedExpiry = Date.parse(response.expiresAt);
    const expiresAtMs = Number.isNaN(parsedExpiry) ? 0 : parsedExpiry;
    for (const part of response.parts) this.ready.set(part.partNumber, { part, expiresAtMs });
  }
}
