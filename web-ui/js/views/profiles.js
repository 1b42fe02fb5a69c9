// Certificate profiles: list, create, edit (with the requeue summary the
// API returns), assign to all devices, delete.
import { api, listAll } from '../api.js';
import { confirmDialog } from '../dialog.js';
import { buildForm } from '../forms.js';
import { navigate } from '../router.js';
import { isAdmin } from '../session.js';
import { statusBar } from '../statusbar.js';
import { button, busy, flash, h, notice, pageHead, table, timeEl } from '../ui.js';

const TEMPLATE_HINT = 'Variables: $DEVICE_SERIAL, $DEVICE_NAME, $DEVICE_ID (write $$ for a literal $).';

export async function profilesView(root) {
  root.append(pageHead('Profiles', isAdmin() ? h('a', { class: 'btn btn-primary', href: '#/profiles/new' }, 'New profile') : null));
  try {
    const { rows } = await listAll('/api/v1/profiles', 'profiles');
    root.append(table({
      caption: 'Profiles',
      rows,
      empty: isAdmin() ? 'No profiles yet. Create one to deploy certificates.' : 'No profiles yet.',
      columns: [
        { label: 'Name', cell: (p) => h('a', { href: `#/profiles/${p.id}` }, p.name) },
        { label: 'CA', cell: (p) => p.ca_name },
        { label: 'Common name', cell: (p) => h('span', { class: 'mono' }, p.common_name) },
        { label: 'Key', cell: (p) => (p.key_mode === 'device' ? 'on device' : 'server-made') },
        { label: 'Assigned to', cell: (p) => (p.assign_all ? 'all devices' : 'chosen devices') },
        { label: 'Deployments', class: 'wide', cell: (p) => statusBar(p.counts) },
      ],
    }));
  } catch (err) {
    root.append(notice('error', `Could not load profiles: ${err.message}`));
  }
}

/** Body for a create, or only the changed fields for an edit. */
function profileBody(v, current) {
  const full = {
    name: v.name,
    ca_id: v.ca_id,
    common_name: v.common_name,
    user_principal_names: v.upn ? [v.upn] : [],
    seat_id: v.seat_id,
    key_mode: v.key_mode,
    renew_before_days: v.renew_before_days === '' ? null : Number(v.renew_before_days),
    assign_all: v.assign_all,
  };
  if (Number.isNaN(full.renew_before_days)) full.renew_before_days = v.renew_before_days; // let the API name the field
  if (!current) {
    if (full.renew_before_days === null) delete full.renew_before_days;
    return full;
  }
  const now = {
    ...current,
    user_principal_names: current.user_principal_names || [],
  };
  const body = {};
  for (const [k, val] of Object.entries(full)) {
    if (JSON.stringify(val) !== JSON.stringify(now[k] ?? null)) body[k] = val;
  }
  return body;
}

function readOnlyDetails(p) {
  return h('dl', { class: 'kv' },
    h('dt', {}, 'CA'), h('dd', {}, p.ca_name),
    h('dt', {}, 'Common name'), h('dd', { class: 'mono' }, p.common_name),
    h('dt', {}, 'User principal name'), h('dd', { class: 'mono' }, (p.user_principal_names || [])[0] || '—'),
    h('dt', {}, 'Seat ID'), h('dd', { class: 'mono' }, p.seat_id),
    h('dt', {}, 'Key'), h('dd', {}, p.key_mode === 'device' ? 'made on the device (CSR)' : 'made by the server (PKCS#12)'),
    h('dt', {}, 'Renew before expiry'), h('dd', {}, p.renew_before_days ? `${p.renew_before_days} days` : 'default (30 days, or half the validity)'),
    h('dt', {}, 'Assigned to'), h('dd', {}, p.assign_all ? 'all devices, including new ones' : 'chosen devices'),
    h('dt', {}, 'Updated'), h('dd', {}, timeEl(p.updated_at)));
}

export async function profileFormView(root, { id }) {
  const creating = !id;
  let profile = null;
  let cas = [];
  try {
    [profile, { rows: cas }] = await Promise.all([
      creating ? null : api('GET', `/api/v1/profiles/${id}`),
      listAll('/api/v1/cas', 'cas'),
    ]);
  } catch (err) {
    root.append(pageHead(creating ? 'New profile' : 'Profile'), notice('error', err.status === 404 ? 'This profile does not exist.' : `Could not load: ${err.message}`));
    return;
  }
  const admin = isAdmin();
  const result = h('div', { 'aria-live': 'polite' });

  if (!creating) {
    root.append(pageHead(`Profile ${profile.name}`,
      admin ? button('Assign to all devices', (ev) => assignAll(ev.currentTarget), {}) : null,
      admin ? button('Delete profile…', (ev) => remove(ev.currentTarget), { kind: 'danger' }) : null),
    h('section', { class: 'card' }, h('h2', {}, 'Deployments'), statusBar(profile.counts),
      profile.counts.failed > 0 ? h('p', {}, h('a', { href: `#/failed?profile=${profile.id}` }, `See the ${profile.counts.failed} failed`)) : null),
    result);
  } else {
    root.append(pageHead('New profile'), result);
  }

  if (!admin) {
    root.append(h('section', { class: 'card' }, h('h2', {}, 'Settings'), readOnlyDetails(profile)));
    return;
  }
  if (!cas.length) {
    root.append(notice('info', 'A profile needs a certificate authority. ', h('a', { href: '#/cas/new' }, 'Add a CA first.')));
    return;
  }

  async function assignAll(btn) {
    await busy(btn, async () => {
      try {
        const r = await api('POST', `/api/v1/profiles/${id}/assignments`, { body: { all: true } });
        flash('ok', `Assigned to ${r.assigned} more device${r.assigned === 1 ? '' : 's'}.`);
      } catch (err) {
        flash('error', `Could not assign: ${err.message}`);
      }
    });
  }

  async function remove(btn) {
    const total = Object.values(profile.counts).reduce((a, b) => a + b, 0);
    const ok = await confirmDialog({
      title: `Delete profile ${profile.name}?`,
      message: `Its ${total} deployment${total === 1 ? '' : 's'} are removed (their history stays). Devices keep the certificates they installed.`,
      confirmLabel: 'Delete profile',
      danger: true,
    });
    if (!ok) return;
    await busy(btn, async () => {
      try {
        await api('DELETE', `/api/v1/profiles/${id}`);
        flash('ok', `Deleted profile ${profile.name}.`);
        navigate('/profiles');
      } catch (err) {
        flash('error', `Could not delete: ${err.message}`);
      }
    });
  }

  const p = profile || {};
  const form = buildForm({
    id: 'profile',
    submitLabel: creating ? 'Create profile' : 'Save changes',
    cancel: h('a', { class: 'btn', href: '#/profiles' }, 'Cancel'),
    fields: [
      { name: 'name', label: 'Name', value: p.name, required: true },
      { name: 'ca_id', label: 'Certificate authority', type: 'select', value: p.ca_id, options: cas.map((c) => ({ value: c.id, label: c.name })) },
      { name: 'common_name', label: 'Common name', value: p.common_name ?? '$DEVICE_SERIAL', required: true, hint: TEMPLATE_HINT },
      { name: 'upn', label: 'User principal name (optional)', value: (p.user_principal_names || [])[0] || '', hint: 'Put into the certificate\'s SAN, e.g. $DEVICE_SERIAL@corp.example.' },
      { name: 'seat_id', label: 'Seat ID', value: p.seat_id ?? '$DEVICE_ID', required: true, hint: 'The DigiCert seat the certificate is counted against.' },
      { name: 'key_mode', label: 'Private key', type: 'select', value: p.key_mode || 'server', options: [
        { value: 'server', label: 'Made by the server, delivered as PKCS#12' },
        { value: 'device', label: 'Made on the device (it sends a CSR)' },
      ] },
      { name: 'renew_before_days', label: 'Renew this many days before expiry (optional)', type: 'number', min: 1, value: p.renew_before_days ?? '', hint: 'Empty: 30 days, or half the validity for certificates valid 30 days or less.' },
      { name: 'assign_all', label: 'Assign to every device, including devices enrolled later', type: 'checkbox', value: creating ? true : p.assign_all },
    ],
    onSubmit: async (v) => {
      if (creating) {
        const created = await api('POST', '/api/v1/profiles', { body: profileBody(v, null) });
        flash('ok', `Created profile ${created.name}.`);
        navigate(`/profiles/${created.id}`);
        return;
      }
      const body = profileBody(v, profile);
      if (!Object.keys(body).length) {
        result.replaceChildren(notice('info', 'Nothing changed.'));
        return;
      }
      const r = await api('PATCH', `/api/v1/profiles/${id}`, { body });
      profile = r.profile;
      const subject = ['common_name', 'user_principal_names', 'seat_id'].some((k) => k in body);
      result.replaceChildren(notice('ok', 'Saved. ', subject || r.requeued || r.failed_untouched
        ? `${r.requeued} deployment${r.requeued === 1 ? '' : 's'} requeued, ${r.failed_untouched} failed one${r.failed_untouched === 1 ? '' : 's'} left alone.`
        : ''));
    },
  });
  root.append(h('section', { class: 'card' }, h('h2', {}, creating ? 'Settings' : 'Edit settings'),
    !creating ? h('p', { class: 'muted' }, 'Changing the common name, UPN or seat ID requests new certificates for every deployment that is not failed.') : null,
    form.el));
}
