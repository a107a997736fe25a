// The bytes a result describes are the bytes `complete` checked. A presigned PUT stays valid until
// it expires, even after `complete` (docs/platform-facts.md "Spaces"), so the object can be
// replaced; `complete` records the ETag its HEAD saw and process/file reads with If-Match on it,
// every resumed range included. A replaced object is rejected as OBJECT_CHANGED, never processed.
//
// The dispatch key here is one the runtime refuses, so `complete` leaves the job queued and each
// test replaces the object first, then runs process/file itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headObject } from '../../src/storage/spaces.js';
import { startProxiedSpaces, type ProxiedSpaces } from '../helpers/faulty-proxy.js';
import { bytes } from '../analyzers/fixtures.js';
import { repeatToSize, startProcessingPlatform, type ProcessingPlatform } from './support.js';

let stored: ProxiedSpaces;
let p: ProcessingPlatform;
const kibibyte = 1024;

beforeAll(async () => {
  stored = await startProxiedSpaces();
  p = await startProcessingPlatform({ ...stored.env, STORAGE_STALL_SECONDS: '1', FUNCTIONS_ACCESS_KEY: 'dof_v1_refused:not-this-namespace-key' });
  await p.holdActivitySweeps();
});

afterAll(async () => {
  await p?.stop();
  await stored?.stop();
});

/** A job whose bytes are uploaded and completed (queued, not dispatched), with a way to PUT again through its URL. */
async function completedUpload(filename: string, data: Uint8Array, contentType: string) {
  const created = await p.client.create({ filename, size: data.length, contentType });
  if (created.upload.kind !== 'single') throw new Error('expected a single PUT');
  const { url, headers } = created.upload;
  const put = async (body: Uint8Array) => {
    const response = await fetch(url, { method: 'PUT', headers, body: new Uint8Array(body) });
    expect(response.status).toBe(200);
    return response.headers.get('etag');
  };
  const etag = await put(data);
  const { job } = await p.client.complete({ jobId: created.jobId, token: created.token });
  expect(job.status).toBe('queued');
  return { jobId: created.jobId, token: created.token, etag, put };
}

function getsOf(filename: string) {
  return stored.proxy.requests.filter((request) => request.method === 'GET' && request.path.endsWith(`/${filename}`));
}

describe('the object is pinned to what complete checked', () => {
  it('complete records the ETag; a second PUT through the still-valid URL gets the job rejected OBJECT_CHANGED, not a result of other bytes', async () => {
    const checked = bytes('name,amount\nalice,10\nbob,20\n');
    const { jobId, token, etag, put } = await completedUpload('pinned.csv', checked, 'text/csv');
    const job = await p.job(jobId);
    expect(job.objectEtag).toBe(etag);

    // Same length and type, as the signed URL demands; other bytes.
    const replacedEtag = await put(bytes('name,amount\nmallo,99\nry!,99\n'));
    expect(replacedEtag).not.toBe(etag);

    const result = await p.processFile(jobId);
    expect(result).toMatchObject({ claimed: true, attempt: 1, outcome: 'rejected', failure: { code: 'OBJECT_CHANGED' } });
    expect(await p.job(jobId)).toMatchObject({ status: 'rejected', errorCode: 'OBJECT_CHANGED', result: null });
    expect(getsOf('pinned.csv').map((request) => request.headers['if-match'])).toEqual([etag]);
    // Bytes nobody checked are not kept.
    expect(await headObject(p.storage, job.objectKey)).toBeUndefined();
    const { job: view } = await p.client.status({ jobId, token });
    expect(view).toMatchObject({ status: 'rejected', error: { code: 'OBJECT_CHANGED' } });
  });

  it('an object replaced while it is being read: the resumed range is refused and the job rejected', async () => {
    const data = repeatToSize('x,y\n1,2\n', 512 * kibibyte);
    const { jobId, etag, put } = await completedUpload('replaced-mid-read.csv', data, 'text/csv');

    // The first read stalls after 128 KiB; the object is replaced meanwhile, and only then does the resumed read reach the store.
    const stall = stored.proxy.inject({ method: 'GET', path: '/replaced-mid-read.csv', headers: (h) => h.range === undefined, fault: { kind: 'stall-body', afterBytes: 128 * kibibyte } });
    const replaced = stall.applied().then(() => put(repeatToSize('x,y\n3,4\n', 512 * kibibyte)));
    stored.proxy.inject({ method: 'GET', path: '/replaced-mid-read.csv', headers: (h) => h.range !== undefined, fault: { kind: 'delay', until: replaced } });

    const result = await p.processFile(jobId);
    expect(await replaced).not.toBe(etag);
    expect(result).toMatchObject({ claimed: true, outcome: 'rejected', failure: { code: 'OBJECT_CHANGED' } });
    expect(await p.job(jobId)).toMatchObject({ status: 'rejected', errorCode: 'OBJECT_CHANGED', result: null });
    const [first, resumed] = getsOf('replaced-mid-read.csv');
    expect(first?.headers['if-match']).toBe(etag);
    expect(resumed?.headers).toMatchObject({ range: `bytes=${128 * kibibyte}-`, 'if-match': etag });
  });
});
