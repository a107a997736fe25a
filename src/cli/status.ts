// `sluice status <jobId> <token>`: one job through the API, as its uploader sees it (the token is
// the capability; no database access needed).
import { createClient, isSluiceApiError } from '../client/index.js';
import { printJson, say, tell, type CliContext } from './context.js';
import { CliError, exitCodes, type ExitCode } from './errors.js';
import { parseJobId } from './jobs.js';
import { jobOutcome, markOf } from './summary.js';
import { resolveApi } from './target.js';

export async function statusCommand(jobId: string, token: string, flags: { json: boolean; api?: string; key?: string }, context: CliContext): Promise<ExitCode> {
  const id = parseJobId(jobId);
  const target = resolveApi(context.sources, { api: flags.api, key: flags.key });
  say(context, `sluice: ${target.apiBase} (from ${target.from})`);
  const client = createClient({ apiBase: target.apiBase, ...(target.apiKey === undefined ? {} : { apiKey: target.apiKey }) });
  let job;
  try {
    ({ job } = await client.status({ jobId: id, token }, { signal: context.signal }));
  } catch (error) {
    if (context.signal.aborted || !isSluiceApiError(error)) throw error;
    throw new CliError(`${error.code} (${error.status}): ${error.message}`, exitCodes.failed, error.code);
  }
  if (flags.json) {
    printJson(context, { job });
  } else {
    tell(context, `${markOf(job)} ${job.filename}  ${job.status}: ${jobOutcome(job)}`);
    if (job.buildId !== null) tell(context, `  processed by build ${job.buildId}, attempt ${job.attempts} of ${job.maxAttempts}`);
  }
  return job.status === 'failed' || job.status === 'rejected' || job.status === 'expired' ? exitCodes.failed : exitCodes.ok;
}
