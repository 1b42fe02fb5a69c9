// One device: each deployment's status, its issued and installed
// certificates, and the history of every transition with its actor.
import { api, listAll, mapLimited } from '../api.js';
import { confirmDialog } from '../dialog.js';
import { every, navigate } from '../router.js';
import { isAdmin } from '../session.js';
import { certDetails } from '../certs.js';
import { button, busy, flash, h, notice, pageHead, renderIfChanged, statusBadge, timeEl, fmtRelative } from '../ui.js';

const RESENDABLE = new Set(['failed', 'verified']);
const HISTORY_SHOWN = 50;

function timeline(events) {
  if (!events) return h('p', { class: 'muted' }, 'The history could not be loaded.');
  if (!events.length) return h('p', { class: 'muted' }, 'No history yet.');
  const newestFirst = [...events].reverse().slice(0, HISTORY_SHOWN);
  const note = events.length > HISTORY_SHOWN ? h('p', { class: 'muted small' }, `The ${HISTORY_SHOWN} newest of ${events.length} events.`) : null;
  return h('div', {}, note, h('ol', { class: 'timeline' }, newestFirst.map((e) =>
    h('li', { class: `event to-${e.to}` },
      h('div', { class: 'event-head' },
        timeEl(e.at), ' ',
        h('span', { class: 'actor' }, e.actor), ' ',
        h('span', { class: 'transition' }, e.from ? statusBadge(e.from) : h('span', { class: 'muted' }, 'new'), ' → ', statusBadge(e.to)),
        h('span', { class: 'muted small' }, `${e.event ? `${e.event.replace(/_/g, ' ')} · ` : ''}generation ${e.generation}`)),
      e.detail ? h('p', { class: 'event-detail' }, e.detail) : null))));
}

function deploymentCard(device, dep, events, onResend) {
  const failedButValid = dep.status === 'failed' && dep.installed_certificate && dep.installed_certificate.valid;
  return h('section', { class: `card deployment status-border-${dep.status}`, dataset: { profile: dep.profile_name, status: dep.status } },
    h('div', { class: 'card-head' },
      h('h2', {}, h('a', { href: `#/profiles/${dep.profile_id}` }, dep.profile_name), ' ', statusBadge(dep.status)),
      isAdmin() && RESENDABLE.has(dep.status)
        ? button('Resend', (ev) => onResend(ev.currentTarget, dep), { 'aria-label': `Resend ${dep.profile_name}` })
        : null),
    dep.status === 'failed'
      ? notice('error', h('strong', {}, dep.failure_source === 'device' ? 'The device reported: ' : 'The CA refused or kept failing: '),
        h('span', { class: 'failure-detail' }, dep.detail || 'no detail'))
      : null,
    failedButValid
      ? h('p', { class: 'callout callout-warn' }, `The device still holds a valid certificate (expires ${fmtRelative(dep.installed_certificate.not_after)}).`)
      : null,
    h('dl', { class: 'kv kv-inline' },
      h('dt', {}, 'Attempts'), h('dd', {}, String(dep.attempts)),
      h('dt', {}, 'Generation'), h('dd', {}, String(dep.generation)),
      dep.next_attempt_at ? [h('dt', {}, 'Next attempt'), h('dd', {}, timeEl(dep.next_attempt_at))] : null,
      h('dt', {}, 'Updated'), h('dd', {}, timeEl(dep.updated_at)),
      dep.status !== 'failed' && dep.detail ? [h('dt', {}, 'Detail'), h('dd', {}, dep.detail)] : null),
    h('div', { class: 'certs' },
      certDetails('Issued certificate', dep.issued_certificate, 'Nothing issued for this generation yet.'),
      certDetails('Installed certificate', dep.installed_certificate, 'The device has not confirmed any certificate.')),
    h('h3', {}, 'History'),
    timeline(events));
}

export function deviceView(root, { id }) {
  const head = h('div');
  const body = h('div');
  const refreshBtn = button('Refresh', () => busy(refreshBtn, refresh));
  root.append(head, body);

  async function onResend(btn, dep) {
    await busy(btn, async () => {
      try {
        await api('POST', `/api/v1/devices/${id}/profiles/${dep.profile_id}/resend`);
        flash('ok', `Resent ${dep.profile_name}: it is pending again.`);
      } catch (err) {
        flash('error', `Could not resend ${dep.profile_name}: ${err.message}`);
      }
      await refresh();
    }, 'Resending…');
  }

  async function onDelete(btn, device) {
    const ok = await confirmDialog({
      title: `Delete device ${device.serial}?`,
      message: 'Its deployments are removed and its token stops working. The agent can enroll again with an enroll secret.',
      confirmLabel: 'Delete device',
      danger: true,
    });
    if (!ok) return;
    await busy(btn, async () => {
      try {
        await api('DELETE', `/api/v1/devices/${id}`);
        flash('ok', `Deleted device ${device.serial}.`);
        navigate('/devices');
      } catch (err) {
        flash('error', `Could not delete ${device.serial}: ${err.message}`);
      }
    });
  }

  async function refresh() {
    let device;
    try {
      device = await api('GET', `/api/v1/devices/${id}`);
    } catch (err) {
      renderIfChanged(head, `error:${err.message}`, () => [pageHead('Device'), notice('error', err.status === 404 ? 'This device does not exist (it may have been deleted).' : `Could not load the device: ${err.message}`)]);
      body.replaceChildren();
      return;
    }
    const deps = device.profiles || [];
    const histories = await mapLimited(deps, 4, (d) =>
      // Oldest first and paginated: read it all (bounded) to show the newest.
      listAll(`/api/v1/devices/${id}/profiles/${d.profile_id}/history`, 'events', {}, 5000).then((r) => r.rows).catch(() => null));
    renderIfChanged(head, JSON.stringify([device.serial, device.name, device.enrolled_at, device.last_checkin_at]), () => [
      pageHead(`Device ${device.serial}`, refreshBtn,
        isAdmin() ? button('Delete device…', (ev) => onDelete(ev.currentTarget, device), { kind: 'danger' }) : null),
      h('dl', { class: 'kv kv-inline device-meta' },
        h('dt', {}, 'Name'), h('dd', {}, device.name || '—'),
        h('dt', {}, 'Serial'), h('dd', { class: 'mono' }, device.serial),
        h('dt', {}, 'ID'), h('dd', { class: 'mono' }, device.id),
        h('dt', {}, 'Enrolled'), h('dd', {}, timeEl(device.enrolled_at)),
        h('dt', {}, 'Last check-in'), h('dd', {}, timeEl(device.last_checkin_at))),
    ]);
    renderIfChanged(body, JSON.stringify([deps, histories]), () =>
      deps.length
        ? deps.map((d, i) => deploymentCard(device, d, histories[i], onResend))
        : h('p', { class: 'empty' }, 'No profile is assigned to this device.'));
  }

  return every(5000, refresh);
}
