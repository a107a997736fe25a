// What every browser test needs: the local platform with the S3 server's requests recorded,
// Debian's Chromium (never a downloaded one), a page that records console errors, and screenshots
// in test-results/ (git-ignored).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { buildFunction } from '../../src/local/build.js';
import type { Platform } from '../../src/local/platform.js';
import { loadProject, type FunctionSpec } from '../../src/local/project.js';
import type { LocalSpacesRequest } from '../../src/local/spaces.js';
import { rootDir, startTestPlatform } from '../helpers/platform.js';

/** Debian's package (docs/local-platform.md); CI installs it with apt. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const screenshotDir = path.join(rootDir, 'test-results', 'e2e');
export const mebibyte = 1024 * 1024;

export interface E2ePlatform {
  platform: Platform;
  /** Every request the S3 server answered, in order of completion. */
  storeRequests: LocalSpacesRequest[];
  /** A scratch folder for the files the page picks. */
  files: string;
  stop(): Promise<void>;
}

/** The platform with a small multipart threshold, watching every request the browser sends to storage. */
export async function startE2ePlatform(env: Record<string, string> = {}): Promise<E2ePlatform> {
  const files = mkdtempSync(path.join(os.tmpdir(), 'sluice-e2e-files-'));
  const storeRequests: LocalSpacesRequest[] = [];
  try {
    const platform = await startTestPlatform({
      env: { MULTIPART_THRESHOLD_BYTES: String(mebibyte), ...env },
      onSpacesRequest: (request) => storeRequests.push(request),
    });
    return {
      platform,
      storeRequests,
      files,
      stop: async () => {
        await platform.stop();
        rmSync(files, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(files, { recursive: true, force: true });
    throw error;
  }
}

export function launchChromium(): Promise<Browser> {
  // A fresh temporary profile per launch (playwright's default without a user data dir).
  return chromium.launch({ executablePath: chromiumPath, args: chromiumFlags });
}

export interface ConsoleProblem {
  text: string;
  url: string;
}

export interface E2eSystem {
  /** The platform and Chromium, started before the file's tests (read them inside a test or hook). */
  readonly system: E2ePlatform;
  readonly browser: Browser;
  /** A fresh browser context on the page, once its upload widget is there. */
  open(viewport?: { width: number; height: number }): Promise<PageSession>;
}

/**
 * One platform and one Chromium for a test file: started in its beforeAll (with `env`, or what
 * `env()` gives once the hooks registered before this one have run), stopped in its afterAll.
 */
export function useE2eSystem(env: Record<string, string> | (() => Record<string, string>) = {}): E2eSystem {
  let started: { system: E2ePlatform; browser: Browser } | undefined;
  const get = () => {
    if (started === undefined) throw new Error('the e2e system is not started: use it inside a test or a hook');
    return started;
  };
  beforeAll(async () => {
    const [system, browser] = await Promise.all([startE2ePlatform(typeof env === 'function' ? env() : env), launchChromium()]);
    started = { system, browser };
  });
  afterAll(async () => {
    await started?.browser.close();
    await started?.system.stop();
  });
  return {
    get system() {
      return get().system;
    },
    get browser() {
      return get().browser;
    },
    open: (viewport) => openPage(get().browser, `${get().system.platform.webUrl}/`, viewport),
  };
}

export interface PageSession {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions, in order. */
  problems: ConsoleProblem[];
  close(): Promise<void>;
}

export async function openPage(browser: Browser, url: string, viewport = { width: 1200, height: 900 }): Promise<PageSession> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: ConsoleProblem[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push({ text: message.text(), url: message.location().url });
  });
  page.on('pageerror', (error) => problems.push({ text: `uncaught: ${error.message}`, url: '' }));
  await page.goto(url);
  if (url !== 'about:blank') await page.locator('.uppy-Dashboard').waitFor();
  return { context, page, problems, close: () => context.close() };
}

/**
 * Chromium logs every 4xx answer a script receives as "Failed to load resource"; a test that
 * provokes a refusal on purpose passes the statuses it expects. Anything else is a page bug.
 */
export function unexpectedProblems(problems: ConsoleProblem[], expectedStatuses: number[] = []): ConsoleProblem[] {
  return problems.filter((problem) => {
    const status = /Failed to load resource: the server responded with a status of (\d+)/.exec(problem.text)?.[1];
    return status === undefined || !expectedStatuses.includes(Number(status));
  });
}

/** The whole page by default; `fullPage: false` for what fits the window (the README's picture). */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? true });
  return file;
}

/** Writes a file for the page to pick, returns its path. */
export function writeFile(directory: string, name: string, content: string | Uint8Array): string {
  const file = path.join(directory, name);
  writeFileSync(file, content);
  return file;
}

/** Text of `bytes` length: numbered lines, so a part that went missing or twice would show. */
export function textOfSize(bytes: number): string {
  const lines: string[] = [];
  let length = 0;
  for (let line = 1; length < bytes; line++) {
    const text = `line ${line} of a file big enough for a multipart upload\n`;
    lines.push(text);
    length += text.length;
  }
  return lines.join('').slice(0, bytes);
}

export async function addFiles(page: Page, paths: string[]): Promise<void> {
  // The Dashboard's own file input (the visible "browse files" button opens it).
  await page.locator('input.uppy-Dashboard-input[type=file]:not([webkitdirectory])').first().setInputFiles(paths);
}

export async function startUpload(page: Page): Promise<void> {
  await page.locator('button.uppy-StatusBar-actionBtn--upload').click();
}

/** The card of a job in the jobs list, by filename. */
export function jobCard(page: Page, filename: string): Locator {
  return page.locator('article.job').filter({ has: page.locator('h3.job-name', { hasText: filename }) });
}

/**
 * Waits until a job card shows `status`; on timeout the error carries the card's text (its reason
 * in plain words), which says more than "expected queued to be succeeded".
 */
export async function waitForJobStatus(card: Locator, status: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await card.getAttribute('data-status', { timeout: timeoutMs }).catch(() => null);
    if (current === status) return;
    if (Date.now() > deadline) {
      const text = await card.innerText({ timeout: 1_000 }).catch(() => '(no card)');
      throw new Error(`The job card did not reach ${status} in ${timeoutMs} ms; it shows ${current}:\n${text}`);
    }
    await card.page().waitForTimeout(200);
  }
}

/** Part PUTs the store answered: `{partNumber, status}` in order of completion. */
export function partPuts(requests: LocalSpacesRequest[]): Array<{ partNumber: number; status: number }> {
  return requests.flatMap((request) => {
    if (request.method !== 'PUT') return [];
    const partNumber = new URL(request.url, 'http://store').searchParams.get('partNumber');
    return partNumber === null ? [] : [{ partNumber: Number(partNumber), status: request.status }];
  });
}

/** Opens a job's row on its details (one row is open at a time), unless it is open already. */
export async function openCard(card: Locator): Promise<void> {
  const toggle = card.locator('button.job-toggle');
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await card.locator('.job-body').waitFor();
}

/** The live region's text: what a screen reader has been told. */
export function announcements(page: Page): Promise<string> {
  return page.locator('#announcer[aria-live="polite"]').innerText();
}

/**
 * Keeps every line the live region is given from now on (the region itself keeps only its last
 * few); `announcedSoFar` reads them. For a burst of changes that would push lines out.
 */
export async function recordAnnouncements(page: Page): Promise<void> {
  await page.evaluate(() => {
    const region = document.getElementById('announcer');
    const seen: string[] = [];
    (window as unknown as { announcedSoFar: string[] }).announcedSoFar = seen;
    if (region === null) return;
    new MutationObserver((records) => {
      for (const record of records) for (const node of record.addedNodes) seen.push(node.textContent ?? '');
    }).observe(region, { childList: true });
  });
}

export function announcedSoFar(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { announcedSoFar?: string[] }).announcedSoFar ?? []);
}

export function sha256OfFile(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Screenshots that document the page go to docs/ (committed, used in the README): the viewport, the whole page or one element. */
export async function docsScreenshot(target: Page | Locator, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  const file = path.join(rootDir, 'docs', `${name}.png`);
  if ('goto' in target) await target.screenshot({ path: file, fullPage: options.fullPage ?? false });
  else await target.screenshot({ path: file });
  return file;
}

/**
 * Redeploys process/file from a test entry (a fixture exporting `main`), bundled as the build
 * bundles a function: a deploy that ships a bug, as the processing tests do it
 * (test/processing/support.ts). `platform.redeploy()` brings the project's own bundle back.
 */
export async function deployFileVariant(platform: Platform, entry: string): Promise<() => void> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'sluice-e2e-variant-'));
  const project = loadProject(rootDir, { variables: platform.env });
  const file = project.functions.find((fn) => fn.qualifiedName === 'process/file');
  if (file === undefined) throw new Error('project.yml has no process/file');
  writeFileSync(path.join(directory, 'index.ts'), `export { main } from ${JSON.stringify(path.resolve(rootDir, entry))};\n`);
  const spec: FunctionSpec = { ...file, directory, includes: ['index.js'] };
  await buildFunction(spec);
  await platform.runtime.deploy({ ...project, functions: project.functions.map((fn) => (fn.qualifiedName === 'process/file' ? spec : fn)) });
  return () => rmSync(directory, { recursive: true, force: true });
}

/** Sweeps (each one a real process/sweep activation) until the card shows `status`; retries are due at once here. */
export async function sweepUntilCard(platform: Platform, card: Locator, status: string, timeoutMs = 30_000): Promise<void> {
  await expect
    .poll(
      async () => {
        await platform.runtime.invoke('process/sweep', {}, { blocking: true });
        return card.getAttribute('data-status');
      },
      { timeout: timeoutMs, interval: 300 },
    )
    .toBe(status);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (crcTable[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A real, decodable PNG (a colour gradient), so a browser's preview has something to show. */
export function gradientPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3);
    for (let x = 0; x < width; x++) rows.set([Math.round((x / width) * 255), Math.round((y / height) * 255), 160], row + 1 + x * 3);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}
