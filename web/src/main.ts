// The page: read where the functions are, then wire the upload widget, the API key field and the
// list of jobs together.
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';
import './styles.css';
import { createClient, type LimitsResponse, type SluiceClient } from '../../src/client/index.js';
import { Announcer } from './announcer.js';
import { ApiKeyField } from './api-key.js';
import { loadConfig } from './config.js';
import { byId } from './dom.js';
import { JobStore } from './job-store.js';
import { JobsPanel } from './jobs-panel.js';
import { ServerStatus } from './server-status.js';
import { UploadNotices } from './upload-notices.js';
import { startUploader } from './uploader.js';

async function start(): Promise<void> {
  const config = await loadConfig();
  // The server's limits, so restrictions show before a byte is sent. Without them (an older
  // server, a network hiccup) nothing is checked up front and the server's refusal is shown
  // instead, which the page handles anyway: the server is the authority either way.
  const limits: LimitsResponse | undefined = await createClient({ apiBase: config.apiBase })
    .limits()
    .catch(() => undefined);

  let client: SluiceClient | undefined;
  const apiKey = new ApiKeyField(() => {
    client = undefined;
    // Files refused for want of a key go again with it.
    if (uppy.getFiles().some((file) => file.error)) void uppy.retryAll();
  });
  if (limits?.authRequired) apiKey.reveal();
  const getClient = (): SluiceClient => (client ??= createClient({ apiBase: config.apiBase, apiKey: apiKey.key }));

  const notices = new UploadNotices();
  const serverStatus = new ServerStatus();
  const store = new JobStore();
  const panel = new JobsPanel(byId('jobs', HTMLOListElement), byId('jobs-empty', HTMLElement), store, getClient, serverStatus, new Announcer(), byId('jobs-toolbar', HTMLElement));
  panel.restore();

  const { uppy, controls } = startUploader({
    target: byId('uploader', HTMLElement),
    client: getClient,
    store,
    limits,
    retries: serverStatus,
    events: {
      created: (job) => panel.show(job),
      submitted: (job, view) => panel.show(job, view),
      cancelled: (job, view) => panel.show(job, view),
      notice: (job, notice) => panel.notice(job, notice),
      authRequired: () => apiKey.reveal('This server needs an API key to accept uploads. Enter yours and save.'),
      refused: (filename, reason) => notices.show(filename, reason),
      settled: (filename) => notices.clear(filename),
      progress: (job, upload) => panel.progress(job, upload),
    },
  });
  panel.connect(controls);
}

start().catch((error: unknown) => {
  const fatal = byId('fatal', HTMLElement);
  fatal.textContent = `The page could not start: ${error instanceof Error ? error.message : String(error)}`;
  fatal.hidden = false;
});
