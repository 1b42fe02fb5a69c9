// Overview: one card per profile with its stacked status bar, failures
// that still hold a valid certificate, and certificates expiring soon.
// Refreshes every 5 s with 2 requests plus one per profile that has
// failures; the expiring-soon scan runs at most every 30 s and reads at
// most EXPIRING_MAX_DEVICES device pages.
import { api, listAll, mapLimited, query } from '../api.js';
import { every } from '../router.js';
import { isAdmin } from '../session.js';
import { expiringSoon } from '../certs.js';
import { statusBar } from '../statusbar.js';
import { h, notice, pageHead, renderIfChanged, timeEl, STATUSES } from '../ui.js';

const REFRESH_MS = 5000;
const EXPIRING_EVERY_MS = 30000;
const EXPIRING_MAX_DEVICES = 40;

/**
 * Counts, per profile id, deployments whose installed certificate is
 * inside its renewal window and has not been replaced yet. Reads the
 * devices that have a deployment not verified (those are the ones being
 * renewed or stuck), at most EXPIRING_MAX_DEVICES of them.
 */
async function scanExpiring(profiles) {
  const byId = new Map(profiles.map((p) => [p.id, p]));
  const ids = new Set();
  let more = false;
  for (const status of ['pending', 'verifying', 'failed']) {
    const page = await api('GET', '/api/v1/devices' + query({ status, limit: EXPIRING_MAX_DEVICES }));
    for (const d of page.devices) ids.add(d.id);
    if (page.next_cursor) more = true;
  }
  const wanted = [...ids];
  const checked = wanted.slice(0, EXPIRING_MAX_DEVICES);
  if (wanted.length > checked.length) more = true;
  const devices = await mapLimited(checked, 4, (id) => api('GET', `/api/v1/devices/${id}`).catch(() => null));
  const counts = new Map();
  for (const d of devices) {
    for (const dep of (d && d.profiles) || []) {
      if (dep.status !== 'verified' && expiringSoon(byId.get(dep.profile_id), dep.installed_certificate)) {
        counts.set(dep.profile_id, (counts.get(dep.profile_id) || 0) + 1);
      }
    }
  }
  return { counts, partial: more };
}

function tile(label, value, cls, href) {
  const body = [h('span', { class: 'tile-value' }, String(value)), h('span', { class: 'tile-label' }, label)];
  return href && value > 0
    ? h('a', { class: `tile ${cls || ''}`, href }, body)
    : h('div', { class: `tile ${cls || ''}` }, body);
}

function profileCard(p, st, expiring, partial) {
  const counts = p.counts;
  const total = STATUSES.reduce((s, k) => s + (counts[k] || 0), 0);
  const callouts = [];
  if (counts.failed > 0) {
    const valid = st ? st.failed_with_valid_certificate : null;
    callouts.push(h('p', { class: 'callout callout-failed' },
      h('a', { href: `#/failed?profile=${encodeURIComponent(p.id)}` }, `${counts.failed} failed`),
      valid === null ? '' : valid > 0
        ? ` — ${valid} of them still ${valid === 1 ? 'holds' : 'hold'} a valid certificate`
        : ' — none of them holds a valid certificate'));
  }
  if (expiring > 0) {
    callouts.push(h('p', { class: 'callout callout-warn' },
      `${partial ? 'At least ' : ''}${expiring} expiring soon`,
      h('span', { class: 'muted' }, ' (installed certificate inside its renewal window, not replaced yet)')));
  }
  return h('article', { class: 'card profile-card', dataset: { profile: p.name } },
    h('div', { class: 'card-head' },
      h('h2', {}, h('a', { href: `#/profiles/${encodeURIComponent(p.id)}` }, p.name)),
      h('span', { class: 'muted' }, `${p.ca_name || 'CA'} · ${total} deployment${total === 1 ? '' : 's'}`)),
    statusBar(counts),
    callouts);
}

export function overviewView(root) {
  const body = h('div', { class: 'overview' });
  const stamp = h('p', { class: 'muted small' });
  root.append(pageHead('Overview'), stamp, body);

  let expiring = { counts: new Map(), partial: false };
  let expiringAt = 0;

  const refresh = async () => {
    try {
      const [total, { rows: profiles }] = await Promise.all([
        api('GET', '/api/v1/status'),
        listAll('/api/v1/profiles', 'profiles'),
      ]);
      const withFailures = profiles.filter((p) => p.counts.failed > 0);
      const st = await mapLimited(withFailures, 4,
        (p) => api('GET', '/api/v1/status' + query({ profile_id: p.id })).catch(() => null));
      const statusOf = new Map(withFailures.map((p, i) => [p.id, st[i]]));
      if (Date.now() - expiringAt >= EXPIRING_EVERY_MS) {
        expiring = await scanExpiring(profiles);
        expiringAt = Date.now();
      }
      let expiringTotal = 0;
      for (const n of expiring.counts.values()) expiringTotal += n;
      const key = JSON.stringify([total, profiles.map((p) => [p.id, p.name, p.ca_name, p.counts]), [...statusOf], [...expiring.counts], expiring.partial]);
      renderIfChanged(body, key, () => [
        h('section', { class: 'tiles', 'aria-label': 'All deployments' },
          tile('deployments', total.total, ''),
          tile('verified', total.verified, 'status-verified-text'),
          tile('verifying', total.verifying, 'status-verifying-text'),
          tile('pending', total.pending, 'status-pending-text'),
          tile('failed', total.failed, 'status-failed-text', '#/failed'),
          tile('failed, certificate still valid', total.failed_with_valid_certificate, 'status-failed-text', '#/failed'),
          tile(`expiring soon${expiring.partial ? ' (at least)' : ''}`, expiringTotal, 'warn-text')),
        profiles.length
          ? h('section', { class: 'profile-cards', 'aria-label': 'Profiles' },
            profiles.map((p) => profileCard(p, statusOf.get(p.id), expiring.counts.get(p.id) || 0, expiring.partial)))
          : h('div', { class: 'card empty' },
            h('p', {}, 'No certificate profiles yet.'),
            isAdmin() ? h('p', {}, 'Add a ', h('a', { href: '#/cas/new' }, 'certificate authority'),
              ', then a ', h('a', { href: '#/profiles/new' }, 'profile'), ' to start deploying.') : null),
      ]);
      stamp.replaceChildren('Updated ', timeEl(new Date().toISOString()), ' · refreshes every 5 seconds');
    } catch (err) {
      renderIfChanged(body, `error:${err.message}`, () => notice('error', `Could not load the overview: ${err.message}`));
    }
  };
  return every(REFRESH_MS, refresh);
}
