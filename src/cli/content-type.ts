// The type `sluice upload` declares for a file, from its first bytes and its name, with the
// processing side's own sniffing (src/analyzers/sniff.ts): a format recognised from its bytes is
// declared as such (a PDF named report.dat is application/pdf), so a type the server would reject
// after the upload is refused before it; otherwise text formats come from the extension, since
// magic numbers cannot tell CSV from plain text.
import { filenameExtension, isTextMediaType, normalizeMediaType, sniff, sniffHeadBytes } from '../analyzers/sniff.js';

/** How many leading bytes to read: what processing sniffs too. */
export const headBytes = sniffHeadBytes;

/** Text formats the analyzers tell apart only by the declared type, keyed by extension. */
const textTypesByExtension: Readonly<Record<string, string>> = {
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  tab: 'text/tab-separated-values',
  txt: 'text/plain',
  text: 'text/plain',
  md: 'text/plain',
  log: 'text/plain',
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  jsonl: 'application/x-ndjson',
};

export interface DetectedType {
  contentType: string;
  /** What processing's sniffing makes of the bytes (null: no signature), checked against the server's list too. */
  sniffed: string | null;
  /** Said when a file is refused: "its bytes are application/pdf", "its name ends in .csv". */
  reason: string;
}

export async function detectContentType(head: Uint8Array, filename: string): Promise<DetectedType> {
  const sniffed = await sniff(head);
  const extension = filenameExtension(filename);
  const byName = textTypesByExtension[extension];
  const bytesType = sniffed.mime === null ? null : normalizeMediaType(sniffed.mime);
  // A binary signature outranks the name: a ZIP called data.csv is a ZIP to the server too.
  if (bytesType !== null && !isTextMediaType(bytesType)) return { contentType: bytesType, sniffed: bytesType, reason: `its bytes are ${bytesType}` };
  if (byName !== undefined) return { contentType: byName, sniffed: bytesType, reason: `its name ends in .${extension}` };
  if (bytesType !== null) return { contentType: bytesType, sniffed: bytesType, reason: `its bytes are ${bytesType}` };
  if (sniffed.text) return { contentType: 'text/plain', sniffed: null, reason: 'its bytes are text' };
  return { contentType: 'application/octet-stream', sniffed: null, reason: 'its bytes match no known format' };
}
