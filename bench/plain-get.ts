// A plain GET of one object, in a process of its own as process/file's worker is (the local S3
// server runs in the benchmark's process, so a GET from there would share its event loop): the
// same SDK client the function uses, the body read to the end and dropped. Prints
// {"ms": …, "bytes": …} for bench/system.ts; the process start is not timed.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { SpacesConfig } from '../src/config.js';
import { createStorage } from '../src/storage/spaces.js';

const { spaces, key } = JSON.parse(process.argv[2] ?? '{}') as { spaces: SpacesConfig; key: string };
const storage = createStorage({ ...spaces, forcePathStyle: true });
const started = performance.now();
const answer = await storage.client.send(new GetObjectCommand({ Bucket: storage.bucket, Key: key }));
let bytes = 0;
for await (const chunk of answer.Body as Readable) bytes += (chunk as Buffer).length;
console.log(JSON.stringify({ ms: performance.now() - started, bytes }));
storage.client.destroy();
