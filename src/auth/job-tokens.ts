// Job tokens: the capability for one job's parts/complete/abort/status calls. Random (256 bits),
// returned once by `create`, stored only as a SHA-256 hash, compared in constant time. A wrong
// token and an unknown job give the same answer (404 JOB_NOT_FOUND) after the same work, so the
// API never confirms that a job id exists.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { jobTokenBytes } from '../config.js';
import type { Db } from '../db/client.js';
import { findJob, type JobRow } from '../db/jobs.js';
import { ApiError } from '../errors.js';

export function newJobToken(): { token: string; tokenHash: Buffer } {
  const token = randomBytes(jobTokenBytes).toString('base64url');
  return { token, tokenHash: hashJobToken(token) };
}

export function hashJobToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Compared against for unknown jobs, so both paths hash and compare. */
const absentTokenHash = Buffer.alloc(32);

export function jobNotFound(): ApiError {
  return new ApiError('JOB_NOT_FOUND', 'No job with this id and token.');
}

/** The job, if `token` is its token; otherwise JOB_NOT_FOUND, whether the job exists or not. */
export async function findJobWithToken(db: Db, jobId: string, token: string): Promise<JobRow> {
  const job = await findJob(db, jobId);
  const presented = hashJobToken(token);
  const matches = timingSafeEqual(presented, job?.tokenHash ?? absentTokenHash);
  if (job === undefined || !matches) throw jobNotFound();
  return job;
}
