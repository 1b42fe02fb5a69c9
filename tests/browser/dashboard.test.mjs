// The dashboard in a real Chromium against the real server, mock CA and
// agent: an admin watches a device get verified, sees the CA refuse a
// renewal with its message, resends from the UI and sees it verified again;
// forms show the API's validation errors next to the field; an observer
// gets no write controls. Any console error, page error or unexpected
// failed request fails the test that caused it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, runAgent, sleep } from '../api/lib/fleet.mjs';
import { startMockCa } from '../api/lib/mockca.mjs';
import { launch, openPage, signIn, screenshot, PHONE, WEB_DIR } from './lib/browser.mjs';

const CA_MESSAGE = 'Seat limit reached for this certificate profile';

describe('dashboard', { timeout: 120000 }, () => {
  let fleet;
  let wifiCa;
  let browser;
  let vpn; // short-lived (8 s) profile on the fleet's mock CA: renews every ~4 s
  let wifi; // one-year profile on a second mock CA: stays verified
  let laptop; // the agent the story follows
  let admin; // the admin's page, kept across tests like one session
  let observerToken;

  const base = () => fleet.srv.url;

  /** Checks the laptop in until the API shows pred for profile; returns the deployment. */
  const driveUntil = (profile, pred, what, dev = laptop) =>
    fleet.until(dev.deviceId, profile.id, pred, { dev, what, timeoutMs: 25000 });

  /** Follows a link of the main navigation. */
  const nav = (page, name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();

  /** The card of one deployment on a device page. */
  const deploymentCard = (page, profileName) => page.locator(`section.deployment[data-profile="${profileName}"]`);

  before(async () => {
    [fleet, wifiCa, browser] = await Promise.all([
      startFleet({ mockArgs: ['--validity-seconds', '8'], env: { CERTDEPLOY_WEB_DIR: WEB_DIR } }),
      startMockCa(),
      launch(),
    ]);
    const ca2 = await fleet.srv.request('POST', '/api/v1/cas', {
      body: { name: 'DigiCert TLM (Wi-Fi)', type: 'digicert', url: wifiCa.url, api_token: wifiCa.apiKey, profile_id: wifiCa.profileId },
    });
    assert.equal(ca2.status, 201, ca2.text);
    vpn = await fleet.profile({ name: 'VPN (short-lived)', common_name: '$DEVICE_SERIAL.vpn.corp.example' });
    wifi = await fleet.profile({ name: 'Wi-Fi EAP-TLS', ca_id: ca2.json.id, common_name: '$DEVICE_SERIAL', user_principal_names: ['$DEVICE_SERIAL@corp.example'] });
    laptop = await fleet.device('SN-LAPTOP-0001');
    admin = await openPage(browser, { allowStatuses: [400] }); // 400: the role probe
  });

  after(async () => {
    if (process.env.CERTDEPLOY_TEST_VERBOSE) console.log(fleet?.srv.logs().slice(-20000));
    await admin?.close();
    await browser?.close();
    await Promise.all([fleet?.stop(), wifiCa?.stop()]);
  });

  test('an admin signs in and watches a device reach verified', async () => {
    const { page } = admin;
    await signIn(page, base(), fleet.srv.token);
    await page.getByText('Admin', { exact: true }).waitFor();

    // The overview refreshes itself (every 5 s): no reload, no click.
    const wifiVerified = page.locator(`article.profile-card[data-profile="${wifi.name}"] .legend [data-status="verified"] strong`);
    assert.equal(await wifiVerified.innerText(), '0');
    await driveUntil(wifi, (d) => d.status === 'verified', 'Wi-Fi verified');
    await page.locator(`article.profile-card[data-profile="${wifi.name}"] .legend [data-status="verified"] strong`, { hasText: '1' })
      .waitFor({ timeout: 8000 });

    await nav(page, 'Devices');
    await page.getByLabel('Search').fill('LAPTOP-0001');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'SN-LAPTOP-0001' }).click();
    await page.getByRole('heading', { level: 1, name: 'Device SN-LAPTOP-0001' }).waitFor();
    const wifiCard = deploymentCard(page, wifi.name);
    await wifiCard.locator('h2 .badge', { hasText: 'verified' }).waitFor();
    const installed = await wifiCard.locator('section.cert', { hasText: 'Installed certificate' }).innerText();
    const dep = await fleet.deployment(laptop.deviceId, wifi.id);
    assert.ok(installed.includes(dep.installed_certificate.sha256), 'installed SHA-256 shown in full');
    assert.ok(installed.includes(dep.installed_certificate.serial), 'installed serial shown');
    await wifiCard.locator('.timeline .actor', { hasText: `device:${laptop.deviceId}` }).first().waitFor();
    admin.assertClean();
  });

  test('a renewal the CA refuses shows up as failed with the CA message', async () => {
    const { page } = admin;
    await driveUntil(vpn, (d) => d.status === 'verified', 'VPN verified');
    const q = await fetch(`${fleet.mock.url}/_mock/faults`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 403, count: 1, message: CA_MESSAGE }),
    });
    assert.equal(q.status, 200, await q.text());
    // Checking in keeps the certificate verified until the renewal window
    // opens (half of 8 s); then the CA's 403 fails the renewal for good.
    const failed = await driveUntil(vpn, (d) => d.status === 'failed', 'VPN renewal failed');
    assert.equal(failed.failure_source, 'server');

    // A second device fails on its own: the agent reports an install error.
    const desk = await fleet.device('SN-DESKTOP-0002');
    await fleet.until(desk.deviceId, wifi.id, (d) => d.status === 'failed', { dev: { run: () => desk.run(['checkin', '--fail-install', wifi.id]) }, what: 'desktop Wi-Fi failed' });

    await nav(page, 'Failed');
    await page.getByRole('heading', { level: 1, name: 'Failed deployments' }).waitFor();
    const vpnGroup = page.locator(`section.group[data-profile="${vpn.name}"]`);
    const row = vpnGroup.locator('tr', { hasText: 'SN-LAPTOP-0001' });
    await row.waitFor({ timeout: 8000 });
    const text = await row.innerText();
    assert.match(text, new RegExp(CA_MESSAGE), 'the CA message is shown');
    assert.match(text, /CA \/ server/);
    const desktopRow = page.locator(`section.group[data-profile="${wifi.name}"] tr`, { hasText: 'SN-DESKTOP-0002' });
    await desktopRow.waitFor();
    assert.match(await desktopRow.innerText(), /Device/);
    await screenshot(page, 'failed');
    // A refresh (every 5 s) is one request, the fleet-wide list, however
    // many devices failed: no read of each device.
    const mark = admin.apiStatuses.length;
    await page.waitForTimeout(5500);
    const refreshes = admin.apiStatuses.slice(mark);
    assert.ok(refreshes.length >= 1, 'the page refreshed');
    assert.deepEqual([...new Set(refreshes)], ['GET /api/v1/deployments 200'], refreshes.join('\n'));

    await nav(page, 'Overview');
    const card = page.locator(`article.profile-card[data-profile="${vpn.name}"]`);
    await card.locator('.callout-failed', { hasText: '1 failed' }).waitFor();
    assert.equal(await card.locator('.legend [data-status="failed"] strong').innerText(), '1');
    await page.locator('.tile', { hasText: 'failed, certificate still valid' }).waitFor();
    await screenshot(page, 'overview');

    await page.goto(`${base()}/#/devices/${laptop.deviceId}`);
    const vpnCard = deploymentCard(page, vpn.name);
    await vpnCard.locator('.failure-detail', { hasText: CA_MESSAGE }).waitFor();
    await vpnCard.locator('.timeline .event.to-failed .event-detail', { hasText: CA_MESSAGE }).first().waitFor();
    await vpnCard.locator('.timeline .actor', { hasText: 'worker' }).first().waitFor();
    await screenshot(page, 'device');
    admin.assertClean();
  });

  test('resending from the UI brings the deployment back to verified', async () => {
    const { page } = admin;
    await nav(page, 'Failed');
    const resend = page.getByRole('button', { name: `Resend ${vpn.name} to SN-LAPTOP-0001` });
    await resend.click();
    await page.locator('#flash', { hasText: 'pending again' }).waitFor();
    assert.equal((await fleet.deployment(laptop.deviceId, vpn.id)).status !== 'failed', true);
    await page.locator(`section.group[data-profile="${vpn.name}"]`).waitFor({ state: 'detached', timeout: 8000 });

    await page.goto(`${base()}/#/devices/${laptop.deviceId}`);
    const badge = deploymentCard(page, vpn.name).locator('h2 .badge');
    // The certificate lives 8 s and renews after 4: check in, then look at once.
    let seen = '';
    for (let i = 0; i < 40 && seen !== 'verified'; i++) {
      await laptop.run(['checkin']);
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForLoadState('networkidle');
      seen = await badge.innerText();
      if (seen !== 'verified') await sleep(200);
    }
    assert.equal(seen, 'verified', 'the device page shows verified again after the resend');
    await deploymentCard(page, vpn.name).locator('.timeline .actor', { hasText: /^admin:/ }).first().waitFor();
    admin.assertClean();
  });

  test('resend all failed of a profile asks first, saying how many', async () => {
    const { page } = admin;
    await nav(page, 'Failed');
    const all = page.locator(`section.group[data-profile="${wifi.name}"]`).getByRole('button', { name: 'Resend all 1 failed…' });
    await all.click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /Resend 1 failed deployment\?/);
    assert.match(await dialog.innerText(), new RegExp(wifi.name));
    // Keyboard: focus is inside the dialog; Escape cancels and gives focus back.
    assert.equal(await page.evaluate(() => !!document.activeElement.closest('dialog')), true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Resend all 1 failed…');
    assert.equal((await fleet.srv.request('GET', `/api/v1/profiles/${wifi.id}`)).json.counts.failed, 1, 'cancel changed nothing');

    await all.click();
    await page.getByRole('dialog').getByRole('button', { name: 'Resend 1' }).click();
    await page.locator('#flash', { hasText: 'Resent 1 deployment of' }).waitFor();
    await page.getByText('No failed deployments.').waitFor({ timeout: 8000 });
    admin.assertClean();
  });

  test('editing a profile subject says how many were requeued and how many failed were left alone', async () => {
    const { page } = admin;
    // Fail the laptop's Wi-Fi on purpose so one failed deployment exists.
    const r = await fleet.srv.request('POST', `/api/v1/devices/${laptop.deviceId}/profiles/${wifi.id}/resend`);
    assert.equal(r.status, 202, r.text);
    await fleet.until(laptop.deviceId, wifi.id, (d) => d.status === 'failed',
      { dev: { run: () => laptop.run(['checkin', '--fail-install', wifi.id]) }, what: 'laptop Wi-Fi failed' });
    const before = (await fleet.srv.request('GET', `/api/v1/profiles/${wifi.id}`)).json.counts;
    const notFailed = before.pending + before.verifying + before.verified;

    await nav(page, 'Profiles');
    await page.getByRole('heading', { level: 1, name: 'Profiles' }).waitFor();
    await screenshot(page, 'profiles');
    await page.getByRole('link', { name: wifi.name }).click();
    await page.getByLabel('Common name').fill('$DEVICE_SERIAL.wifi.corp.example');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText(`${notFailed} deployment${notFailed === 1 ? '' : 's'} requeued, 1 failed one left alone.`).waitFor();

    // A template with an unknown variable: the API's message sits under the field.
    await page.getByLabel('Seat ID').fill('$DEVICE_COLOR');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const err = page.locator('#profile-seat_id-error');
    await err.waitFor();
    assert.match(await err.innerText(), /unknown variable \$DEVICE_COLOR/);
    assert.equal(await page.getByLabel('Seat ID').getAttribute('aria-invalid'), 'true');
    admin.assertClean();
  });

  test('a CA token the CA refuses is reported next to the API token field', async () => {
    const p = await openPage(browser, { allowStatuses: [400, 422] });
    try {
      await signIn(p.page, base(), fleet.srv.token);
      await nav(p.page, 'CAs');
      await p.page.getByRole('link', { name: 'New CA' }).click();
      await p.page.getByLabel('Name', { exact: true }).fill('Typo TLM');
      await p.page.getByLabel('URL').fill(fleet.mock.url);
      await p.page.getByLabel('API token').fill('not-the-right-key');
      await p.page.getByLabel('CA profile ID').fill(fleet.mock.profileId);
      await p.page.getByRole('button', { name: 'Check and create' }).click();
      const err = p.page.locator('#ca-api_token-error');
      await err.waitFor();
      assert.match(await err.innerText(), /unknown API key/, 'the CA\'s own message');
      assert.equal(await p.page.evaluate(() => document.activeElement.id), 'ca-api_token', 'focus moves to the field to fix');
      assert.equal(await p.page.getByLabel('API token').getAttribute('aria-describedby'), 'ca-api_token-hint ca-api_token-error');
      await screenshot(p.page, 'ca-form-error');
      const cas = (await fleet.srv.request('GET', '/api/v1/cas')).json.cas;
      assert.equal(cas.some((c) => c.name === 'Typo TLM'), false, 'nothing was created');
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('tokens and enroll secrets are shown once and work', async () => {
    const { page } = admin;
    await nav(page, 'API tokens');
    await page.getByLabel('Name', { exact: true }).fill('helpdesk');
    await page.getByLabel('Role').selectOption('observer');
    await page.getByRole('button', { name: 'Create token' }).click();
    observerToken = await page.getByLabel('New API token').inputValue();
    assert.ok(observerToken.length > 20);
    await page.getByRole('cell', { name: 'helpdesk', exact: true }).waitFor();

    await nav(page, 'Enroll secrets');
    await page.getByLabel('Name', { exact: true }).fill('laptops 2025');
    await page.getByRole('button', { name: 'Create enroll secret' }).click();
    const secret = await page.getByLabel('New enroll secret').inputValue();
    const dir = (await import('node:fs')).mkdtempSync((await import('node:path')).join((await import('node:os')).tmpdir(), 'certdeploy-agent-'));
    const r = await runAgent(fleet.srv, dir, ['enroll', '--enroll-secret', secret, '--serial', 'SN-TABLET-0003']);
    assert.equal(r.code, 0, r.stderr);

    // Delete the enroll secret after a confirmation.
    await page.getByRole('button', { name: 'Delete enroll secret laptops 2025' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete enroll secret' }).click();
    await page.locator('#flash', { hasText: 'Deleted enroll secret' }).waitFor();
    const r2 = await runAgent(fleet.srv, dir, ['enroll', '--enroll-secret', secret, '--serial', 'SN-TABLET-0004']);
    assert.notEqual(r2.code, 0, 'a deleted secret no longer enrolls');
    admin.assertClean();
  });

  test('an observer sees everything and no write control', async () => {
    assert.ok(observerToken, 'the observer token from the tokens test');
    const p = await openPage(browser);
    const WRITE = /resend|delete|new |create|save|assign|edit/i;
    try {
      await signIn(p.page, base(), observerToken);
      await p.page.getByText('Observer · read-only').waitFor();
      const pages = [
        ['/', 'Overview'], ['/failed', 'Failed deployments'], ['/devices', 'Devices'],
        [`/devices/${laptop.deviceId}`, 'Device SN-LAPTOP-0001'], ['/profiles', 'Profiles'],
        [`/profiles/${wifi.id}`, `Profile ${wifi.name}`], ['/cas', 'Certificate authorities'],
        [`/cas/${fleet.caId}`, 'CA Mock TLM'], ['/tokens', 'API tokens'], ['/secrets', 'Enroll secrets'],
      ];
      for (const [path, title] of pages) {
        await p.page.goto(`${base()}/#${path}`);
        await p.page.getByRole('heading', { level: 1, name: title }).waitFor();
        await p.page.waitForLoadState('networkidle');
        const controls = await p.page.locator('main button, main a.btn, main form:not([role=search]), main input:not([type=search])').evaluateAll(
          (els) => els.map((e) => `${e.tagName} ${e.textContent.trim() || e.getAttribute('aria-label') || e.id}`));
        const writes = controls.filter((c) => WRITE.test(c) || /^FORM|^INPUT/.test(c));
        assert.deepEqual(writes, [], `write controls on ${path}`);
      }
      // The device page still shows the facts, read only.
      await p.page.goto(`${base()}/#/devices/${laptop.deviceId}`);
      await deploymentCard(p.page, wifi.name).locator('.timeline').waitFor();
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('the dashboard fits a phone screen', async () => {
    const p = await openPage(browser, { viewport: PHONE, allowStatuses: [400] });
    try {
      await signIn(p.page, base(), fleet.srv.token);
      await p.page.locator('article.profile-card').first().waitFor();
      for (const path of ['/', '/failed', '/devices', `/devices/${laptop.deviceId}`, '/profiles']) {
        await p.page.goto(`${base()}/#${path}`);
        await p.page.waitForLoadState('networkidle');
        const overflow = await p.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px at 390px`);
      }
      await p.page.goto(`${base()}/#/`);
      await p.page.locator('article.profile-card').first().waitFor();
      await screenshot(p.page, 'phone-overview');
      await p.page.goto(`${base()}/#/failed`);
      await p.page.getByRole('heading', { level: 1, name: 'Failed deployments' }).waitFor();
      await p.page.waitForLoadState('networkidle');
      await screenshot(p.page, 'phone-failed');
      p.assertClean();
    } finally {
      await p.close();
    }
  });

  test('signing out forgets the token', async () => {
    const { page } = admin;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await page.goto(`${base()}/#/devices`);
    await page.getByLabel('API token').waitFor();
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).isVisible(), false);
    admin.assertClean();
  });
});
