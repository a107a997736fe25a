// Where the functions are: config.json beside the page, written at deploy time (vite.config.ts)
// or served by the local platform. Nothing about the server is baked into the bundle.
import * as z from 'zod';

const configSchema = z.object({
  apiBase: z.url({ protocol: /^https?$/ }),
});
export type PageConfig = z.infer<typeof configSchema>;

export async function loadConfig(): Promise<PageConfig> {
  let response: Response;
  try {
    response = await fetch('config.json', { cache: 'no-store', headers: { accept: 'application/json' } });
  } catch (error) {
    throw new Error(`config.json could not be fetched (${error instanceof Error ? error.message : String(error)}).`, { cause: error });
  }
  if (!response.ok) throw new Error(`config.json answered HTTP ${response.status}. Build the page with SLUICE_API_BASE set (see .do/app.yaml).`);
  const parsed = configSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new Error('config.json must be {"apiBase": "https://…/api/v1/web/<namespace>"}.');
  return parsed.data;
}
