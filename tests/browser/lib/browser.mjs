// Drives Debian's Chromium (never a downloaded browser) through
// playwright-core, and watches every page for console errors, page errors
// and failed requests, so a test fails on any of them.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';

export const CHROMIUM = process.env.CERTDEPLOY_CHROMIUM || '/usr/bin/chromium';
export const WEB_DIR = resolve('web-ui');
// Screenshots go to a temporary directory so a test run leaves the tree
// clean; refresh the documented ones with
//   CERTDEPLOY_SCREENSHOTS_DIR=docs/screenshots bash tests/run.sh browser
export const SHOTS_DIR = resolve(process.env.CERTDEPLOY_SCREENSHOTS_DIR || join(tmpdir(), 'certdeploy-screenshots'));
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches headless Chromium (playwright gives it a fresh temporary profile). */
export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/**
 * A page in a fresh, isolated context (its own sessionStorage), watched
 * for problems. allowStatuses: HTTP statuses the dashboard is expected to meet on /api requests in this test (the role
 * probe's 400/403, a validation 422): Chromium logs those as console
 * errors too, and only those are forgiven.
 */
export async function openPage(browser, { viewport = DESKTOP, allowStatuses = [] } = {}) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport });
  const page = await context.newPage();
  const problems = [];
  const apiStatuses = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    const text = msg.text();
    const m = text.match(/^Failed to load resource: the server responded with a status of (\d{3})/);
    if (m && allowStatuses.includes(Number(m[1]))) return;
    if (msg.type() === 'warning') {
      problems.push(`console warning: ${text}`);
      return;
    }
    problems.push(`console error: ${text} (${msg.location().url || 'no url'})`);
  });
  page.on('response', (res) => {
    const url = new URL(res.url());
    const s = res.status();
    if (url.pathname.startsWith('/api/')) {
      apiStatuses.push(`${res.request().method()} ${url.pathname} ${s}`);
      if (s >= 500) problems.push(`server error: ${res.request().method()} ${url.pathname} → ${s}`);
      else if (s >= 400 && !allowStatuses.includes(s)) problems.push(`unexpected ${s}: ${res.request().method()} ${url.pathname}`);
    } else if (s >= 400) {
      problems.push(`static file ${url.pathname} → ${s}`);
    }
  });
  page.on('requestfailed', (req) => {
    // A request cut off because the page navigated or was closed is not an error.
    const why = req.failure()?.errorText || '';
    if (!/ERR_ABORTED/.test(why)) problems.push(`request failed: ${req.method()} ${req.url()} ${why}`);
  });
  return {
    page,
    context,
    apiStatuses,
    /** Fails the test when anything went wrong on the page so far. */
    assertClean() {
      assert.deepEqual(problems, [], `problems on the page:\n${problems.join('\n')}`);
    },
    close: () => context.close(),
  };
}

/** Signs in on the dashboard at base with token and waits for the overview. */
export async function signIn(page, base, token) {
  await page.goto(`${base}/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
}

/** Saves a full-page screenshot as SHOTS_DIR/<name>.png. */
export async function screenshot(page, name) {
  mkdirSync(SHOTS_DIR, { recursive: true });
  await page.screenshot({ path: join(SHOTS_DIR, `${name}.png`), fullPage: true });
}
