// Certificate authorities: list, create and edit (the server checks the
// URL, API token and profile with the CA itself and names the field the CA
// refused), delete.
import { api, listAll } from '../api.js';
import { confirmDialog } from '../dialog.js';
import { buildForm } from '../forms.js';
import { navigate } from '../router.js';
import { isAdmin } from '../session.js';
import { button, busy, flash, h, notice, pageHead, table, timeEl } from '../ui.js';

export async function casView(root) {
  root.append(pageHead('Certificate authorities', isAdmin() ? h('a', { class: 'btn btn-primary', href: '#/cas/new' }, 'New CA') : null));
  try {
    const { rows } = await listAll('/api/v1/cas', 'cas');
    root.append(table({
      caption: 'Certificate authorities',
      rows,
      empty: 'No CA yet. Add your DigiCert Trust Lifecycle Manager (or the mock CA) to issue certificates.',
      columns: [
        { label: 'Name', cell: (c) => h('a', { href: `#/cas/${c.id}` }, c.name) },
        { label: 'URL', cell: (c) => h('span', { class: 'mono' }, c.url) },
        { label: 'CA profile', cell: (c) => h('span', { class: 'mono' }, c.profile_id) },
        { label: 'Used by', class: 'num', cell: (c) => `${c.profiles_using} profile${c.profiles_using === 1 ? '' : 's'}` },
        { label: 'Updated', cell: (c) => timeEl(c.updated_at) },
      ],
    }));
  } catch (err) {
    root.append(notice('error', `Could not load CAs: ${err.message}`));
  }
}

export async function caFormView(root, { id }) {
  const creating = !id;
  let ca = null;
  if (!creating) {
    try {
      ca = await api('GET', `/api/v1/cas/${id}`);
    } catch (err) {
      root.append(pageHead('Certificate authority'), notice('error', err.status === 404 ? 'This CA does not exist.' : `Could not load: ${err.message}`));
      return;
    }
  }
  const admin = isAdmin();
  root.append(pageHead(creating ? 'New certificate authority' : `CA ${ca.name}`,
    !creating && admin ? button('Delete CA…', (ev) => remove(ev.currentTarget), { kind: 'danger' }) : null));

  if (!admin) {
    root.append(h('section', { class: 'card' }, h('dl', { class: 'kv' },
      h('dt', {}, 'Type'), h('dd', {}, 'DigiCert Trust Lifecycle Manager'),
      h('dt', {}, 'URL'), h('dd', { class: 'mono' }, ca.url),
      h('dt', {}, 'CA profile ID'), h('dd', { class: 'mono' }, ca.profile_id),
      h('dt', {}, 'API token'), h('dd', {}, 'hidden'),
      h('dt', {}, 'Used by'), h('dd', {}, `${ca.profiles_using} profile(s)`),
      h('dt', {}, 'Updated'), h('dd', {}, timeEl(ca.updated_at)))));
    return;
  }

  async function remove(btn) {
    const ok = await confirmDialog({
      title: `Delete CA ${ca.name}?`,
      message: ca.profiles_using > 0
        ? `${ca.profiles_using} profile(s) use this CA; the server refuses to delete it until they use another CA.`
        : 'Its API token is erased. No profile uses it.',
      confirmLabel: 'Delete CA',
      danger: true,
    });
    if (!ok) return;
    await busy(btn, async () => {
      try {
        await api('DELETE', `/api/v1/cas/${id}`);
        flash('ok', `Deleted CA ${ca.name}.`);
        navigate('/cas');
      } catch (err) {
        flash('error', `Could not delete ${ca.name}: ${err.message}`);
      }
    });
  }

  const c = ca || {};
  const form = buildForm({
    id: 'ca',
    submitLabel: creating ? 'Check and create' : 'Check and save',
    cancel: h('a', { class: 'btn', href: '#/cas' }, 'Cancel'),
    fields: [
      { name: 'name', label: 'Name', value: c.name, required: true },
      { name: 'url', label: 'URL', type: 'url', value: c.url, required: true, placeholder: 'https://one.digicert.com', hint: 'Base URL of the Trust Lifecycle Manager (the server appends /mpki/api/...).' },
      {
        name: 'api_token', label: 'API token', type: 'password', required: creating, autocomplete: 'new-password',
        hint: creating ? 'Sent as X-API-Key. Stored encrypted; never shown again.' : 'Leave empty to keep the stored token.',
      },
      { name: 'profile_id', label: 'CA profile ID', value: c.profile_id, required: true, hint: 'The DigiCert certificate profile to issue from.' },
      { name: 'ca_certificate', label: 'CA certificate for HTTPS (optional, PEM)', type: 'textarea', value: c.ca_certificate || '', placeholder: '-----BEGIN CERTIFICATE-----', hint: 'Only when the CA\'s HTTPS certificate is not publicly trusted.' },
    ],
    onSubmit: async (v) => {
      const body = { name: v.name, url: v.url, profile_id: v.profile_id };
      if (creating) {
        body.type = 'digicert';
        body.api_token = v.api_token;
      } else if (v.api_token) {
        body.api_token = v.api_token;
      }
      const pem = v.ca_certificate.trim() ? v.ca_certificate.trim() + '\n' : null;
      if (pem !== (c.ca_certificate || null) && (pem || !creating)) body.ca_certificate = pem;
      const saved = await api(creating ? 'POST' : 'PATCH', creating ? '/api/v1/cas' : `/api/v1/cas/${id}`, { body });
      flash('ok', `${creating ? 'Created' : 'Saved'} CA ${saved.name}: the CA accepted the token and profile.`);
      navigate('/cas');
    },
  });
  root.append(h('section', { class: 'card' },
    h('p', { class: 'muted' }, 'Saving asks the CA to confirm the token and profile; a refusal is shown next to the field to fix.'),
    form.el));
}
