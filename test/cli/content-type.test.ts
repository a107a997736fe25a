// The type `sluice upload` declares: a binary format recognised from the bytes wins over the name
// (processing sniffs the same way and would reject it otherwise); text formats come from the name.
import { describe, expect, it } from 'vitest';
import { detectContentType } from '../../src/cli/content-type.js';
import { bytes, makePng } from '../analyzers/fixtures.js';

const pdf = bytes('%PDF-1.4\n%\u00e2\u00e3\n1 0 obj\n<<>>\nendobj\n');
const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0, ...new Array(40).fill(0)]);

describe('detectContentType', () => {
  it.each([
    ['people.csv', bytes('a,b\n1,2\n'), 'text/csv', 'its name ends in .csv'],
    ['table.TSV', bytes('a\tb\n1\t2\n'), 'text/tab-separated-values', 'its name ends in .tsv'],
    ['events.jsonl', bytes('{"a":1}\n'), 'application/x-ndjson', 'its name ends in .jsonl'],
    ['doc.json', bytes('{"a":1}'), 'application/json', 'its name ends in .json'],
    ['README', bytes('just some words\n'), 'text/plain', 'its bytes are text'],
    ['photo.jpg', makePng(2, 2), 'image/png', 'its bytes are image/png'],
    ['report.dat', pdf, 'application/pdf', 'its bytes are application/pdf'],
    ['data.csv', zip, 'application/zip', 'its bytes are application/zip'],
    ['blob', new Uint8Array([0, 1, 2, 3, 0, 0xff, 0xfe, 7]), 'application/octet-stream', 'its bytes match no known format'],
  ])('%s is %s', async (name, head, contentType, reason) => {
    expect(await detectContentType(head, name)).toMatchObject({ contentType, reason });
  });

  it('reports what processing will sniff, so a declared type cannot hide it', async () => {
    expect((await detectContentType(pdf, 'report.txt')).sniffed).toBe('application/pdf');
    expect((await detectContentType(bytes('a,b\n'), 'a.csv')).sniffed).toBeNull();
  });
});
