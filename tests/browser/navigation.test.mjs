// Leaving a page while it still loads, in a real Chromium against the real
// server: the page left must not write into the one the user went to, and
// no refresh timer may outlive the page that started it (nor the session:
// signing out stops the overview's refresh). The router holds this for
// every view; these tests slow a view down on purpose (playwright holds its
// API reply, or a test view waits) and navigate away mid-load.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, sleep } from '../api/lib/fleet.mjs';
import { launch, openPage, signIn, WEB_DIR } from './lib/browser.mjs';

/** The API paths the overview's 5-second refresh reads. */
const OVERVIEW_PATHS = new Set(['/api/v1/status', '/api/v1/profiles', '/api/v1/devices']);

describe('navigation', { timeout: 120000 }, () => {
  let fleet;
  let browser;

  const base = () => fleet.srv.url;

  /** Follows a link of the main navigation. */
  const nav = (page, name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();

  /** Waits (up to ms) until pred() is true. */
  const until = async (pred, what, ms = 10000) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  };

  /** Records the method and path of every /api request page makes from now on. */
  const recordApi = (page) => {
    const seen = [];
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (url.pathname.startsWith('/api/')) seen.push(`${req.method()} ${url.pathname}`);
    });
    return seen;
  };

  before(async () => {
    [fleet, browser] = await Promise.all([
      startFleet({ env: { CERTDEPLOY_WEB_DIR: WEB_DIR } }),
      launch(),
    ]);
    // Something for the overview's cards and the profile list to show.
    await fleet.profile({ name: 'Wi-Fi EAP-TLS', common_name: '$DEVICE_SERIAL' });
  });

  after(async () => {
    if (process.env.CERTDEPLOY_TEST_VERBOSE) console.log(fleet?.srv.logs().slice(-20000));
    await browser?.close();
    await fleet?.stop();
  });

  test('a list left while loading writes nothing into the overview, and the overview stops refreshing when left', async () => {
    const p = await openPage(browser, { allowStatuses: [400] }); // 400: the role probe
    const { page } = p;
    try {
      await signIn(page, base(), fleet.srv.token);

      // Hold the CA list's reply for 2 s.
      let held = 0;
      await page.route((url) => url.pathname === '/api/v1/cas', async (route) => {
        held++;
        await sleep(2000);
        await route.continue();
      });
      const casReply = page.waitForResponse((res) => new URL(res.url()).pathname === '/api/v1/cas');

      await nav(page, 'CAs');
      await page.getByRole('heading', { level: 1, name: 'Certificate authorities' }).waitFor();
      await until(() => held === 1, 'the CA list request');
      // Mid-load, the user goes back to the overview.
      await nav(page, 'Overview');
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      await page.locator('article.profile-card').first().waitFor();

      // (a) The CA list answers late: nothing of it reaches the overview.
      await casReply;
      await sleep(500);
      const main = page.locator('main');
      assert.deepEqual(await main.locator('h1').allInnerTexts(), ['Overview'], 'one page title, the overview\'s');
      assert.equal(await main.getByRole('link', { name: 'Mock TLM' }).count(), 0,
        'a row of the CA list left behind appeared on the overview');
      assert.equal(await main.locator('table').count(), 0, 'a table of the CA list appeared on the overview');

      // (b) Leaving the overview stops its 5-second refresh: none of its
      // requests over the next 7 s (it would have refreshed once or twice).
      await nav(page, 'API tokens');
      await page.getByRole('heading', { level: 1, name: 'API tokens' }).waitFor();
      await page.waitForLoadState('networkidle');
      const seen = recordApi(page);
      await sleep(7000);
      const overview = seen.filter((r) => OVERVIEW_PATHS.has(r.split(' ')[1]));
      assert.deepEqual(overview, [], 'the overview kept refreshing after the user left it');
      assert.deepEqual(await main.locator('h1').allInnerTexts(), ['API tokens']);
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('a view that resolves after a newer one started neither renders nor keeps its timer', async () => {
    const p = await openPage(browser, { allowStatuses: [400] });
    const { page } = p;
    try {
      await signIn(page, base(), fleet.srv.token);
      // A test view, registered on the dashboard's own router: it shows
      // its title, waits 1.5 s as if loading, then renders a row and starts
      // a 300 ms refresh, returning its stop() like the real views do.
      await page.evaluate(async () => {
        const r = await import(new URL('js/router.js', document.baseURI).href);
        window.testTicks = 0;
        window.testResolved = false;
        r.route('/test/slow', async (root) => {
          const title = document.createElement('h1');
          title.textContent = 'Slow test page';
          root.append(title);
          await new Promise((res) => { setTimeout(res, 1500); });
          const row = document.createElement('p');
          row.className = 'late-row';
          row.textContent = 'rendered late';
          root.append(row);
          window.testResolved = true;
          return r.every(300, () => { window.testTicks++; });
        });
      });
      await page.evaluate(() => { location.hash = '#/test/slow'; });
      await page.getByRole('heading', { level: 1, name: 'Slow test page' }).waitFor();
      await nav(page, 'Profiles');
      await page.getByRole('heading', { level: 1, name: 'Profiles' }).waitFor();
      await page.waitForFunction(() => window.testResolved, null, { timeout: 5000 });
      await sleep(2000);

      const main = page.locator('main');
      assert.equal(await main.locator('.late-row').count(), 0, 'the late view rendered into the profiles page');
      assert.deepEqual(await main.locator('h1').allInnerTexts(), ['Profiles']);
      await main.getByRole('link', { name: 'Wi-Fi EAP-TLS' }).waitFor();
      // every() runs its function once at start; after that the router must
      // have stopped it at once (a 300 ms timer left running ticks ~7 times).
      const ticks = await page.evaluate(() => window.testTicks);
      assert.ok(ticks <= 1, `the late view's timer kept running on the profiles page (${ticks} ticks)`);

      // The profiles page is the current one: leaving it still works.
      await nav(page, 'Overview');
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      assert.equal(await page.evaluate(() => window.testTicks), ticks);
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('signing out on the overview stops its refresh', async () => {
    const p = await openPage(browser, { allowStatuses: [400] });
    const { page } = p;
    try {
      await signIn(page, base(), fleet.srv.token);
      await page.locator('article.profile-card').first().waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API token').waitFor();
      const seen = recordApi(page);
      await page.getByLabel('API token').fill('half-typed');
      // The overview refreshes every 5 s; a refresh without a token gets a
      // 401, which signs out again and resets the form being typed in.
      await sleep(7000);
      assert.deepEqual(seen, [], 'the overview kept refreshing after signing out');
      assert.equal(await page.getByLabel('API token').inputValue(), 'half-typed', 'the sign-in form was reset');
      await page.getByText('Signed out.').waitFor({ timeout: 100 });
      p.assertClean();
    } finally {
      await p.close();
    }
  });
});
