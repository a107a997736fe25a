// Builds the static page (web/) into web/dist: one HTML file, one script, one stylesheet. The same
// folder is served by the local platform (`npm run dev`, tests) and deployed as an App Platform
// static site (.do/app.yaml), where a build-time SLUICE_API_BASE becomes web/dist/config.json.
import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import * as z from 'zod';

const webRoot = path.resolve(import.meta.dirname, 'web');

/** The web functions' base URL as the page needs it: `https://<api host>/api/v1/web/<namespace>`. */
const apiBaseSchema = z.url({ protocol: /^https?$/, error: 'SLUICE_API_BASE must be an http(s) URL such as https://faas-nyc1-….doserverless.co/api/v1/web/fn-…' });

/**
 * Writes config.json beside the page when SLUICE_API_BASE is set (production builds). Without it
 * nothing is written: the local platform answers /config.json itself with its own functions' URL.
 */
function apiConfigFile(): Plugin {
  return {
    name: 'sluice-config-json',
    apply: 'build',
    generateBundle() {
      const raw = process.env.SLUICE_API_BASE?.trim();
      if (!raw) return;
      const apiBase = apiBaseSchema.parse(raw).replace(/\/+$/, '');
      this.emitFile({ type: 'asset', fileName: 'config.json', source: `${JSON.stringify({ apiBase }, null, 2)}\n` });
    },
  };
}

export default defineConfig({
  root: webRoot,
  // Relative asset URLs: the page works at a domain's root and under a path alike.
  base: './',
  publicDir: false,
  clearScreen: false,
  plugins: [apiConfigFile()],
  build: {
    outDir: path.join(webRoot, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    // Uppy's Dashboard (with Preact) is most of the script; one file loads faster than a waterfall.
    chunkSizeWarningLimit: 600,
  },
});
