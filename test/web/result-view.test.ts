// The page's description of job results, fed with what the real analyzers produce for real files,
// so a change of a summary's shape shows up here rather than as a blank card in the browser.
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runAnalyzers } from '../../src/analyzers/run.js';
import { describeResult, humanize, resultHeadline, type Block, type Chart, type ResultSection } from '../../web/src/result-view.js';

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

function charts(result: ResultSection): Chart[] {
  return result.blocks.flatMap((block) => (block.kind === 'charts' ? block.charts : []));
}

function allText(sections: ResultSection[]): string {
  return JSON.stringify(sections);
}

describe('resultHeadline', () => {
  it('says what each kind of file is, and warns when the job worked but the file has a problem', async () => {
    const cases: [string | Uint8Array, string, string, string, 'success' | 'warning'][] = [
      ['a,b\n1,2\n3,4\n', 'text/csv', 'a.csv', 'CSV · 2 rows × 2 columns', 'success'],
      ['a\tb\n1\t2\n', 'text/tab-separated-values', 'a.tsv', 'TSV · 1 row × 2 columns', 'success'],
      ['a,b\n1,2\n3\n', 'text/csv', 'ragged.csv', 'CSV · 2 rows × 2 columns · 1 row with missing or extra fields', 'warning'],
      ['h,w\n1,5\'11"\n2,6\n', 'text/csv', 'height.csv', 'CSV · 2 rows × 2 columns · 1 malformed row', 'warning'],
      ['[{"a":1},{"a":2,"b":3}]', 'application/json', 'a.json', 'JSON · an array of 2 records', 'success'],
      ['{\n  "a": 1,\n}\n', 'application/json', 'bad.json', 'Invalid JSON at line 3, column 1', 'warning'],
      ['{"a":1}\nnope\n', 'application/x-ndjson', 'a.ndjson', 'NDJSON · 1 record · 1 line not JSON', 'warning'],
      [pngHeader(1100, 1480), 'image/png', 'photo.png', 'Image · PNG · 1,100 × 1,480', 'success'],
      [pngHeader(3, 2), 'text/csv', 'photo.csv', 'Image · PNG · 3 × 2 · not CSV as declared', 'warning'],
      ['one two\n', 'text/plain', 'a.txt', 'Text · 1 line · 2 words', 'success'],
      [Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), 'text/plain', 'latin1.txt', 'Text · 1 line · 1 word · not UTF-8 (read as windows-1252)', 'warning'],
      [Uint8Array.from([0, 1, 2, 3, 0, 0xff]), 'application/octet-stream', 'blob.bin', 'Binary file · 6 bytes', 'success'],
    ];
    for (const [data, contentType, filename, text, tone] of cases) {
      expect(resultHeadline(await resultFor(data, contentType, filename)), filename).toEqual({ text, tone });
    }
    expect(resultHeadline(null)).toBeNull();
    expect(resultHeadline({ audio: { codec: 'opus' } })).toEqual({ text: 'Audio · 1 field', tone: 'success' });
  });
});

describe('describeResult', () => {
  it('profiles a CSV: the file facts first, its encoding among them, then the columns in words, with no text statistics repeated', async () => {
    const csv = 'city,population,founded,coastal\nLisbon,545923,1179-06-01,true\nPorto,231800,0868-01-01,true\nBraga,,1112-01-01,false\n';
    const sections = describeResult(await resultFor(csv, 'text/csv', 'cities.csv'));
    expect(sections.map((candidate) => candidate.analyzer)).toEqual(['file', 'csv']);
    const file = facts(section(sections, 'file'));
    expect(file).toMatchObject({ Type: 'CSV; the bytes are text, as declared', Encoding: 'valid UTF-8', 'Line endings': 'LF' });
    expect(file.Size).toBeUndefined(); // under 1 KB, the headline's size is exact already
    expect(allText(sections)).not.toMatch(/Words|Characters/);
    const profile = section(sections, 'csv');
    expect(profile.headline).toBe('3 rows × 4 columns');
    expect(facts(profile)).toEqual({ Delimiter: 'comma', 'Header row': expect.stringMatching(/^yes: the first row differs/) as string });
    const [columns, samples] = tables(profile);
    expect(columns?.head).toEqual(['Column', 'Type', 'Values', 'Empty', 'Distinct', 'Min', 'Max', 'Mean']);
    expect(columns?.rows).toEqual([
      ['city', 'text', '3', '0', '3', '—', '—', '—'],
      ['population', 'whole number', '2', '1', '2', '231,800', '545,923', '388,862'],
      ['founded', 'date', '3', '0', '3', '0868-01-01', '1179-06-01', '—'],
      ['coastal', 'yes/no', '3', '0', '2', '—', '—', '—'],
    ]);
    expect(samples?.head).toEqual(['city', 'population', 'founded', 'coastal']);
    expect(samples?.rows[2]).toEqual(['Braga', '', '1112-01-01', 'false']);
  });

  it('draws a histogram for each numeric and date column and bars for repeated text values, each with its text alternative', async () => {
    const rows = ['score,joined,city,name'];
    for (let index = 0; index < 200; index += 1) {
      rows.push(`${index % 50},2021-${String(1 + (index % 12)).padStart(2, '0')}-15,${['Berlin', 'Paris', 'Oslo'][index % 3]},person ${index}`);
    }
    const profile = section(describeResult(await resultFor(`${rows.join('\n')}\n`, 'text/csv', 'people.csv')), 'csv');
    const drawn = charts(profile);
    // `name` has 200 different values: bars of one each would say nothing.
    expect(drawn.map((chart) => [chart.kind, chart.column])).toEqual([
      ['histogram', 'score'],
      ['histogram', 'joined'],
      ['bars', 'city'],
    ]);
    const [score, joined, city] = drawn;
    if (score?.kind !== 'histogram' || joined?.kind !== 'histogram' || city?.kind !== 'bars') throw new Error('unexpected chart kinds');
    expect(score.counts.reduce((sum, count) => sum + count, 0)).toBe(200);
    expect(score.binLabels).toHaveLength(score.counts.length);
    expect(Number(score.from.replace(/,/g, ''))).toBeLessThanOrEqual(0);
    expect(Number(score.to.replace(/,/g, ''))).toBeGreaterThanOrEqual(49);
    expect(score.summary).toMatch(/^score: 200 values from -?[\d.]+ to [\d.]+ in \d+ bins; the fullest, .+ to .+: \d+\.$/);
    expect(joined.from.startsWith('2021-01')).toBe(true);
    expect(joined.to.startsWith('2021-12') || joined.to.startsWith('2022-01')).toBe(true);
    expect(joined.counts.reduce((sum, count) => sum + count, 0)).toBe(200);
    expect(city.bars.map((bar) => bar.label).sort()).toEqual(['Berlin', 'Oslo', 'Paris']);
    expect(city.bars.reduce((sum, bar) => sum + bar.count, 0)).toBe(200);
    expect(city.summary).toMatch(/^city: 200 values; most frequent: (Berlin|Paris|Oslo) 67, /);
  });

  it('charts the first 24 columns of a wide file, and says so', async () => {
    const header = Array.from({ length: 40 }, (_, index) => `c${index}`).join(',');
    const rows = Array.from({ length: 30 }, (_, row) => Array.from({ length: 40 }, (_, column) => (row * column) % 7).join(','));
    const profile = section(describeResult(await resultFor(`${header}\n${rows.join('\n')}\n`, 'text/csv', 'wide.csv')), 'csv');
    const block = profile.blocks.find((candidate) => candidate.kind === 'charts');
    expect(block?.kind === 'charts' ? [block.caption, block.charts.length] : null).toEqual(['Distributions (the first 24 of 40 columns with one)', 24]);
  });

  it('says where a CSV breaks and which rows are ragged', async () => {
    const sections = describeResult(await resultFor('a,b\n1,2\n3\n"unclosed,4\n', 'text/csv', 'broken.csv'));
    const profile = section(sections, 'csv');
    // The unclosed quote runs to the end of the file: the profile says it is not whole, and why.
    expect(notes(profile).join('\n')).toMatch(/^error: The profile does not cover the whole file: .*line 4/m);
    expect(notes(profile).join('\n')).toMatch(/^warning: 1 row was read leniently, as spreadsheets and pandas read them \(first: line 4, a quote that is never closed\)\./m);
    expect(notes(profile).join('\n')).toMatch(/^warning: 2 rows have a different number of fields \(first: row 2 has 1 field\)/m);
  });

  it('gives the hash and the detected type of every file in words, and warns when the type lies', async () => {
    const sections = describeResult(await resultFor(pngHeader(3, 2), 'text/csv', 'photo.csv'));
    const file = facts(section(sections, 'file'));
    expect(file['SHA-256']).toMatch(/^[0-9a-f]{64}$/);
    expect(file.Type).toBe('declared CSV, but the bytes are a PNG image');
    expect(notes(section(sections, 'file'))).toContain('warning: The file was declared as CSV, but its bytes are a PNG image.');
    const image = section(sections, 'image');
    expect(image.headline).toBe('PNG · 3 × 2 pixels');
    expect(facts(image)).toEqual({ Colour: 'RGB colour, 8 bits per channel' });

    const binary = facts(section(describeResult(await resultFor(Uint8Array.from([0, 1, 2, 3, 0, 0xff]), 'application/octet-stream', 'x.bin')), 'file'));
    expect(binary.Type).toBe('no format this server recognises');
  });

  it('counts text, JSON and NDJSON', async () => {
    const text = section(describeResult(await resultFor('one two\nthree\n', 'text/plain', 'a.txt')), 'text');
    expect(text.headline).toBe('2 lines · 3 words · 14 characters');

    const jsonSections = describeResult(await resultFor('[{"a":1},{"b":2}]', 'application/json', 'a.json'));
    expect(jsonSections.map((candidate) => candidate.analyzer)).toEqual(['file', 'json']);
    const json = section(jsonSections, 'json');
    expect(json.headline).toBe('Valid: an array of 2 records');
    expect(facts(json)).toEqual({ 'Top level': 'an array of 2 records', 'Keys in the records': '2', 'Deepest nesting': '2 levels' });
    expect(json.blocks).toContainEqual({ kind: 'list', label: 'Keys in the records', items: ['a', 'b'] });

    const badJson = section(describeResult(await resultFor('{"a": }', 'application/json', 'bad.json')), 'json');
    expect(badJson.headline).toMatch(/^Invalid at line 1, column \d+$/);
    expect(notes(badJson)[0]).toMatch(/^warning: .+ \(line 1, column \d+, byte \d+\)\. The figures cover what came before it\.$/);

    const ndjson = section(describeResult(await resultFor('{"a":1}\nnot json\n{"a":2}\n', 'application/x-ndjson', 'a.ndjson')), 'ndjson');
    expect(ndjson.headline).toBe('2 records on 3 lines, 1 bad line');
    expect(facts(ndjson)).toEqual({ Records: '2 objects' });
    expect(tables(ndjson)[0]?.caption).toBe('Lines that are not JSON');
    expect(tables(ndjson)[0]?.rows[0]?.[0]).toBe('2');
  });

  it('names the encoding: UTF-16 is no fault, 8-bit text is a guess with what is not UTF-8', async () => {
    const utf16 = Buffer.from('\uFEFFone two\r\nthree\r\n', 'utf16le');
    const text = section(describeResult(await resultFor(utf16, 'text/plain', 'a.txt')), 'text');
    expect(notes(text)).toEqual([]);
    expect(resultHeadline(await resultFor(utf16, 'text/plain', 'a.txt'))?.tone).toBe('success');
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
