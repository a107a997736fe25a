// The page's description of job results, fed with what the real analyzers produce for real files,
// so a change of a summary's shape shows up here rather than as a blank card in the browser.
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runAnalyzers } from '../../src/analyzers/run.js';
import { describeResult, humanize, type Block, type ResultSection } from '../../web/src/result-view.js';

async function resultFor(text: string | Uint8Array, contentType: string, filename: string): Promise<Record<string, unknown>> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  async function* once(): AsyncGenerator<Uint8Array> {
    yield bytes;
  }
  return (await runAnalyzers(once(), { contentType, filename, size: bytes.length })).results;
}

function section(sections: ResultSection[], analyzer: string): ResultSection {
  const found = sections.find((candidate) => candidate.analyzer === analyzer);
  if (found === undefined) throw new Error(`no ${analyzer} section in ${sections.map((s) => s.analyzer).join(', ')}`);
  return found;
}

function tables(result: ResultSection): Extract<Block, { kind: 'table' }>[] {
  return result.blocks.filter((block): block is Extract<Block, { kind: 'table' }> => block.kind === 'table');
}

function facts(result: ResultSection): Record<string, string> {
  return Object.fromEntries(result.blocks.flatMap((block) => (block.kind === 'facts' ? block.facts.map((fact) => [fact.label, fact.value]) : [])));
}

function notes(result: ResultSection): string[] {
  return result.blocks.flatMap((block) => (block.kind === 'note' ? [`${block.tone}: ${block.text}`] : []));
}

describe('describeResult', () => {
  it('profiles a CSV as a column table and sample rows, after the file facts', async () => {
    const csv = 'city,population,founded,coastal\nLisbon,545923,1179-06-01,true\nPorto,231800,0868-01-01,true\nBraga,,1112-01-01,false\n';
    const sections = describeResult(await resultFor(csv, 'text/csv', 'cities.csv'));
    expect(sections[0]?.analyzer).toBe('file');
    const profile = section(sections, 'csv');
    expect(profile.headline).toBe('3 rows × 4 columns');
    const [columns, samples] = tables(profile);
    expect(columns?.head).toEqual(['Column', 'Type', 'Empty', 'Min', 'Max']);
    expect(columns?.rows).toEqual([
      ['city', 'string', '0', '—', '—'],
      ['population', 'integer', '1', '231,800', '545,923'],
      ['founded', 'date', '0', '0868-01-01', '1179-06-01'],
      ['coastal', 'boolean', '0', '—', '—'],
    ]);
    expect(samples?.head).toEqual(['city', 'population', 'founded', 'coastal']);
    expect(samples?.rows[2]).toEqual(['Braga', '', '1112-01-01', 'false']);
  });

  it('says where a CSV breaks and which rows are ragged', async () => {
    const sections = describeResult(await resultFor('a,b\n1,2\n3\n"unclosed,4\n', 'text/csv', 'broken.csv'));
    const profile = section(sections, 'csv');
    // The unclosed quote runs to the end of the file: the profile says it is not whole, and why.
    expect(profile.headline).toContain('(incomplete)');
    expect(notes(profile).join('\n')).toMatch(/^error: The profile does not cover the whole file: .*line 4/m);
    expect(notes(profile).join('\n')).toMatch(/^warning: 2 rows have a different number of fields \(first: row 2 has 1 field\)/m);
  });

  it('gives the hash and the detected type of every file, and warns when the type lies', async () => {
    const png = pngHeader(3, 2);
    const sections = describeResult(await resultFor(png, 'text/csv', 'photo.csv'));
    const file = facts(section(sections, 'file'));
    expect(file['SHA-256']).toMatch(/^[0-9a-f]{64}$/);
    expect(file['Detected type']).toBe('image/png');
    expect(notes(section(sections, 'file'))).toContain('warning: The bytes do not look like text/csv.');
    expect(section(sections, 'image').headline).toBe('PNG · 3 × 2 pixels');
  });

  it('counts text, JSON and NDJSON', async () => {
    const text = section(describeResult(await resultFor('one two\nthree\n', 'text/plain', 'a.txt')), 'text');
    expect(text.headline).toBe('2 lines · 3 words · 14 characters');

    const json = section(describeResult(await resultFor('[{"a":1},{"b":2}]', 'application/json', 'a.json')), 'json');
    expect(json.headline).toBe('Valid JSON: an array of 2 elements');
    expect(json.blocks).toContainEqual({ kind: 'list', label: 'Keys', items: ['a', 'b'] });

    const badJson = section(describeResult(await resultFor('{"a": }', 'application/json', 'bad.json')), 'json');
    expect(badJson.headline).toMatch(/^Invalid JSON at line 1, column \d+$/);

    const ndjson = section(describeResult(await resultFor('{"a":1}\nnot json\n{"a":2}\n', 'application/x-ndjson', 'a.ndjson')), 'ndjson');
    expect(ndjson.headline).toBe('2 records on 3 lines, 1 bad line');
    expect(tables(ndjson)[0]?.rows[0]?.[0]).toBe('2');
  });

  it('names the encoding: UTF-16 is no fault, 8-bit text is a guess with what is not UTF-8', async () => {
    const utf16 = Buffer.from('\uFEFFone two\r\nthree\r\n', 'utf16le');
    const text = section(describeResult(await resultFor(utf16, 'text/plain', 'a.txt')), 'text');
    expect(notes(text)).toEqual([]);
    expect(facts(text).Encoding).toBe('UTF-16 (little-endian), with a byte order mark');

    const latin1 = Uint8Array.from([...'Café déjà vu, naïve façade\n'], (char) => char.charCodeAt(0));
    const legacy = section(describeResult(await resultFor(latin1, 'text/plain', 'b.txt')), 'text');
    expect(notes(legacy)).toEqual(['warning: The text is windows-1252 (a guess: not UTF-8, 5 bad sequences, the first at byte 3).']);
  });

  it('says when a key count is exact, and what the server cut or replaced to store a summary', async () => {
    const many = JSON.stringify(Object.fromEntries(Array.from({ length: 300 }, (_, index) => [`k${index}`, index])));
    const json = section(describeResult(await resultFor(many, 'application/json', 'a.json')), 'json');
    expect(facts(json).Keys).toBe('300');

    const marked = describeResult({ custom: { items: [1], replacedCharacters: 2, truncatedToBudget: { bytes: 300_000, budgetBytes: 65_536 } } });
    expect(notes(section(marked, 'custom'))).toEqual([
      'info: 2 characters that cannot be stored (NUL, unpaired surrogates) shown as �.',
      'warning: This summary was 293 KB, over its 64 KB budget: its lists and texts are cut short.',
    ]);
  });

  it('shows a crashed analyzer as its error and an unknown one generically', () => {
    const sections = describeResult({ csv: { error: { code: 'ANALYZER_CRASHED', message: 'boom' } }, audio: { durationSeconds: 12.5, codec: 'opus' } });
    expect(section(sections, 'csv').blocks).toEqual([{ kind: 'note', tone: 'error', text: 'boom (ANALYZER_CRASHED)' }]);
    expect(facts(section(sections, 'audio'))).toEqual({ 'Duration seconds': '12.5', Codec: 'opus' });
    expect(describeResult(null)).toEqual([]);
  });

  it('turns keys into words', () => {
    expect(humanize('longestLineNumber')).toBe('Longest line number');
    expect(humanize('bit_depth')).toBe('Bit depth');
  });
});

/** The smallest PNG header the image analyzer reads: signature and IHDR (no pixels needed). */
function pngHeader(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'ascii');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr[16] = 8;
  ihdr[17] = 2;
  const idat = deflateSync(Buffer.alloc((width * 3 + 1) * height));
  const idatChunk = Buffer.alloc(12 + idat.length);
  idatChunk.writeUInt32BE(idat.length, 0);
  idatChunk.write('IDAT', 4, 'ascii');
  idat.copy(idatChunk, 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr, idatChunk]);
}
