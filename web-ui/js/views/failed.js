// Failed deployments: every device with a failed deployment, read one by
// one, grouped by profile; resend one, or all failed of a profile.
import { api, listAll, mapLimited } from '../api.js';
import { confirmDialog } from '../dialog.js';
import { every, navigate } from '../router.js';
import { isAdmin } from '../session.js';
import { validityText } from '../certs.js';
import { button, busy, flash, h, notice, pageHead, renderIfChanged, table, timeEl } from '../ui.js';

const MAX_DEVICES = 500;
// Each refresh reads every device with a failure: refresh every 5 s while
// they are few, every 30 s when there are many (Refresh is always there).
const FAST_MS = 5000;
const SLOW_MS = 30000;
const FEW_DEVICES = 25;

function sourceText(dep) {
  if (dep.failure_source === 'server') return 'CA / server';
  if (dep.failure_source === 'device') return 'Device';
  return '—';
}

/** Loads {profiles, rows:[{device, dep}], more}. */
async function load(profileFilter) {
  const [{ rows: profiles }, { rows: devices, more }] = await Promise.all([
    listAll('/api/v1/profiles', 'profiles'),
    listAll('/api/v1/devices', 'devices', { status: 'failed', profile_id: profileFilter }, MAX_DEVICES),
  ]);
  const details = await mapLimited(devices, 6, (d) => api('GET', `/api/v1/devices/${d.id}`).catch(() => null));
  const rows = [];
  for (const d of details) {
    if (!d) continue; // deleted meanwhile
    for (const dep of d.profiles || []) {
      if (dep.status === 'failed' && (!profileFilter || dep.profile_id === profileFilter)) rows.push({ device: d, dep });
    }
  }
  return { profiles, rows, more };
}

export function failedView(root, _params, q) {
  const profileFilter = q.get('profile') || '';
  const filter = h('div', { class: 'filters' });
  const body = h('div');
  const refreshBtn = button('Refresh', () => busy(refreshBtn, refresh));
  root.append(pageHead('Failed deployments', refreshBtn),
    h('p', { class: 'muted' }, 'A failure stays until someone resends it. Resending starts a new certificate request for that deployment.'),
    filter, body);

  async function resendOne(btn, device, dep) {
    await busy(btn, async () => {
      try {
        await api('POST', `/api/v1/devices/${device.id}/profiles/${dep.profile_id}/resend`);
        flash('ok', `Resent ${dep.profile_name} to ${device.serial}: it is pending again.`);
      } catch (err) {
        flash('error', `Could not resend ${dep.profile_name} to ${device.serial}: ${err.message}`);
      }
      await refresh();
    }, 'Resending…');
  }

  async function resendAll(btn, profile) {
    const n = profile.counts.failed;
    const ok = await confirmDialog({
      title: `Resend ${n} failed deployment${n === 1 ? '' : 's'}?`,
      message: `All ${n} failed deployment${n === 1 ? '' : 's'} of the profile “${profile.name}” go back to pending and ask the CA for a new certificate.`,
      confirmLabel: `Resend ${n}`,
    });
    if (!ok) return;
    await busy(btn, async () => {
      try {
        const r = await api('POST', `/api/v1/profiles/${profile.id}/resend`, { body: { status: 'failed' } });
        flash('ok', `Resent ${r.resent} deployment${r.resent === 1 ? '' : 's'} of ${profile.name}.`);
      } catch (err) {
        flash('error', `Could not resend ${profile.name}: ${err.message}`);
      }
      await refresh();
    }, 'Resending…');
  }

  function group(profile, rows) {
    const admin = isAdmin();
    const name = profile ? profile.name : rows[0].dep.profile_name;
    const allBtn = admin && profile && profile.counts.failed > 0
      ? button(`Resend all ${profile.counts.failed} failed…`, (ev) => resendAll(ev.currentTarget, profile), { kind: 'primary' })
      : null;
    const columns = [
      { label: 'Device', cell: ({ device }) => [h('a', { class: 'nowrap', href: `#/devices/${device.id}` }, device.serial), h('div', { class: 'muted small' }, device.name)] },
      { label: 'Source', cell: ({ dep }) => h('span', { class: 'nowrap' }, sourceText(dep)) },
      { label: 'Message', class: 'detail', cell: ({ dep }) => h('span', { class: 'failure-detail' }, dep.detail || '—') },
      { label: 'Attempts', class: 'num', cell: ({ dep }) => String(dep.attempts) },
      { label: 'Still holds a valid certificate', cell: ({ dep }) => validityText(dep.installed_certificate) },
      { label: 'Failed at', cell: ({ dep }) => timeEl(dep.updated_at) },
    ];
    if (admin) {
      columns.push({ label: 'Action', cell: ({ device, dep }) => button('Resend', (ev) => resendOne(ev.currentTarget, device, dep), { 'aria-label': `Resend ${dep.profile_name} to ${device.serial}` }) });
    }
    return h('section', { class: 'card group', dataset: { profile: name } },
      h('div', { class: 'card-head' },
        h('h2', {}, name, ' ', h('span', { class: 'count' }, `${rows.length} failed`)),
        allBtn),
      table({ columns, rows, caption: `Failed deployments of ${name}` }));
  }

  let lastLoad = 0;
  let lastDevices = 0;

  async function refresh() {
    lastLoad = Date.now();
    try {
      const { profiles, rows, more } = await load(profileFilter);
      lastDevices = new Set(rows.map((r) => r.device.id)).size;
      const key = JSON.stringify([profiles.map((p) => [p.id, p.name, p.counts.failed]), rows.map((r) => [r.device.id, r.dep]), more]);
      renderIfChanged(filter, JSON.stringify(profiles.map((p) => [p.id, p.name])), () => {
        const sel = h('select', { id: 'failed-profile', onchange: (ev) => navigate(ev.target.value ? `/failed?profile=${encodeURIComponent(ev.target.value)}` : '/failed') },
          h('option', { value: '' }, 'All profiles'),
          profiles.map((p) => h('option', { value: p.id, selected: p.id === profileFilter }, p.name)));
        return h('div', { class: 'field inline' }, h('label', { for: 'failed-profile' }, 'Profile'), sel);
      });
      renderIfChanged(body, key, () => {
        if (!rows.length) return h('p', { class: 'empty ok' }, 'No failed deployments.');
        const byProfile = new Map();
        for (const r of rows) {
          if (!byProfile.has(r.dep.profile_id)) byProfile.set(r.dep.profile_id, []);
          byProfile.get(r.dep.profile_id).push(r);
        }
        const pmap = new Map(profiles.map((p) => [p.id, p]));
        return [
          more ? notice('info', `Showing the first ${MAX_DEVICES} devices with failures; filter by profile to see the rest.`) : null,
          [...byProfile].map(([pid, list]) => group(pmap.get(pid), list)),
        ];
      });
    } catch (err) {
      renderIfChanged(body, `error:${err.message}`, () => notice('error', `Could not load failed deployments: ${err.message}`));
    }
  }

  return every(FAST_MS, async () => {
    if (lastDevices > FEW_DEVICES && Date.now() - lastLoad < SLOW_MS) return;
    await refresh();
  });
}
