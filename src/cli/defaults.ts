// The CLI's defaults and bounds, apart from the command modules so that `--help` can show them
// without loading those modules (and the AWS SDK and Postgres client behind them).

/**
 * Files uploading at once. Each sends up to 4 parts in parallel (uploadFile's default), so this
 * keeps about a dozen connections busy, and memory at 12 parts (8 MiB each for files up to 80 GB).
 */
export const defaultParallelFiles = 3;
/** More files at once than this would only queue behind each other's parts. */
export const maxParallelFiles = 16;
/** Jobs `sluice jobs list` shows: enough to see what just happened; `--limit` asks for more. */
export const defaultListLimit = 20;
/** A list longer than this is a query for psql, not for a terminal. */
export const maxListLimit = 1_000;
