// Failed deployments: one request per refresh (GET /api/v1/deployments
// with status=failed, each row with its device's serial and name), grouped
// by profile; resend one, or all failed of a profile.
import { api, listAll, query } from '../api.js';
import { confirmDialog } from '../dialog.js';
import { every, navigate } from '../router.js';
import { isAdmin } from '../session.js';
import { validityText } from '../certs.js';
import { button, busy, flash, h, notice, pageHead, renderIfChanged, table, timeEl } from '../ui.js';

// One page of the list is what the page shows: the first failures, oldest
// first; a profile filter shows the rest.
const MAX_ROWS = 500;
const REFRESH_MS = 5000;

function sourceText(dep) {
  if (dep.failure_source === 'server') return 'CA / server';
  if (dep.failure_source === 'device') return 'Device';
  return '—';
}

/** Loads {rows, more}: the failed deployments, one request. */
async function load(profileFilter) {
  const page = await api('GET', '/api/v1/deployments' + query({ status: 'failed', profile_id: profileFilter, limit: MAX_ROWS }));
  return { rows: page.deployments, more: page.next_cursor !== null };
}

export function failedView(root, _params, q) {
  const profileFilter = q.get('profile') || '';
  const filter = h('div', { class: 'filters' });
  const body = h('div');
  const refreshBtn = button('Refresh', () => busy(refreshBtn, refresh));
  root.append(pageHead('Failed deployments', refreshBtn),
    h('p', { class: 'muted' }, 'A failure stays until someone resends it. Resending starts a new certificate request for that deployment.'),
    filter, body);

  async function resendOne(btn, dep) {
    await busy(btn, async () => {
      try {
        await api('POST', `/api/v1/devices/${dep.device_id}/profiles/${dep.profile_id}/resend`);
        flash('ok', `Resent ${dep.profile_name} to ${dep.device_serial}: it is pending again.`);
      } catch (err) {
        flash('error', `Could not resend ${dep.profile_name} to ${dep.device_serial}: ${err.message}`);
      }
      await refresh();
    }, 'Resending…');
  }

  async function resendAll(btn, profileId, name) {
    // the count the server has now, not the one the page last showed
    let n;
    try {
      n = (await api('GET', `/api/v1/profiles/${profileId}`)).counts.failed;
    } catch (err) {
      flash('error', `Could not read ${name}: ${err.message}`);
      return;
    }
    const ok = await confirmDialog({
      title: `Resend ${n} failed deployment${n === 1 ? '' : 's'}?`,
      message: `All ${n} failed deployment${n === 1 ? '' : 's'} of the profile “${name}” go back to pending and ask the CA for a new certificate.`,
      confirmLabel: `Resend ${n}`,
    });
    if (!ok) return;
    await busy(btn, async () => {
      try {
        const r = await api('POST', `/api/v1/profiles/${profileId}/resend`, { body: { status: 'failed' } });
        flash('ok', `Resent ${r.resent} deployment${r.resent === 1 ? '' : 's'} of ${name}.`);
      } catch (err) {
        flash('error', `Could not resend ${name}: ${err.message}`);
      }
      await refresh();
    }, 'Resending…');
  }

  function group(rows, complete) {
    const admin = isAdmin();
    const { profile_id: profileId, profile_name: name } = rows[0];
    const count = complete ? `${rows.length} failed` : `${rows.length}+ failed`;
    const allBtn = admin
      ? button(complete ? `Resend all ${rows.length} failed…` : 'Resend all failed…', (ev) => resendAll(ev.currentTarget, profileId, name), { kind: 'primary' })
      : null;
    const columns = [
      { label: 'Device', cell: (dep) => [h('a', { class: 'nowrap', href: `#/devices/${dep.device_id}` }, dep.device_serial), h('div', { class: 'muted small' }, dep.device_name)] },
      { label: 'Source', cell: (dep) => h('span', { class: 'nowrap' }, sourceText(dep)) },
      { label: 'Message', class: 'detail', cell: (dep) => h('span', { class: 'failure-detail' }, dep.detail || '—') },
      { label: 'Attempts', class: 'num', cell: (dep) => String(dep.attempts) },
      { label: 'Still holds a valid certificate', cell: (dep) => validityText(dep.installed_certificate) },
      { label: 'Failed at', cell: (dep) => timeEl(dep.updated_at) },
    ];
    if (admin) {
      columns.push({ label: 'Action', cell: (dep) => button('Resend', (ev) => resendOne(ev.currentTarget, dep), { 'aria-label': `Resend ${dep.profile_name} to ${dep.device_serial}` }) });
    }
    return h('section', { class: 'card group', dataset: { profile: name } },
      h('div', { class: 'card-head' },
        h('h2', {}, name, ' ', h('span', { class: 'count' }, count)),
        allBtn),
      table({ columns, rows, caption: `Failed deployments of ${name}` }));
  }

  function renderFilter(profiles) {
    renderIfChanged(filter, JSON.stringify(profiles.map((p) => [p.id, p.name])), () => {
      const sel = h('select', { id: 'failed-profile', onchange: (ev) => navigate(ev.target.value ? `/failed?profile=${encodeURIComponent(ev.target.value)}` : '/failed') },
        h('option', { value: '' }, 'All profiles'),
        profiles.map((p) => h('option', { value: p.id, selected: p.id === profileFilter }, p.name)));
      return h('div', { class: 'field inline' }, h('label', { for: 'failed-profile' }, 'Profile'), sel);
    });
  }

  async function refresh() {
    try {
      const { rows, more } = await load(profileFilter);
      renderIfChanged(body, JSON.stringify([rows, more]), () => {
        if (!rows.length) return h('p', { class: 'empty ok' }, 'No failed deployments.');
        const byProfile = new Map();
        for (const dep of rows) {
          if (!byProfile.has(dep.profile_id)) byProfile.set(dep.profile_id, []);
          byProfile.get(dep.profile_id).push(dep);
        }
        return [
          more ? notice('info', `Showing the first ${MAX_ROWS} failed deployments; filter by profile to see the rest.`) : null,
          // a profile's group is complete unless the page was cut short
          [...byProfile.values()].map((list) => group(list, !more)),
        ];
      });
    } catch (err) {
      renderIfChanged(body, `error:${err.message}`, () => notice('error', `Could not load failed deployments: ${err.message}`));
    }
  }

  // The profile filter's names: once per visit, not per refresh.
  listAll('/api/v1/profiles', 'profiles').then(({ rows }) => renderFilter(rows), () => renderFilter([]));
  return every(REFRESH_MS, refresh);
}
