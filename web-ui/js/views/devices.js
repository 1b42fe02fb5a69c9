// Devices: search by serial or name, filter by status, page through.
import { api, query } from '../api.js';
import { navigate } from '../router.js';
import { h, notice, pageHead, table, timeEl, STATUSES } from '../ui.js';

const PAGE = 50;

function countsCell(counts) {
  const parts = STATUSES.filter((k) => counts && counts[k] > 0)
    .map((k) => h('span', { class: `badge status-${k}` }, `${counts[k]} ${k}`));
  return parts.length ? h('span', { class: 'badges' }, parts) : h('span', { class: 'muted' }, 'none assigned');
}

export async function devicesView(root, _params, q) {
  const search = q.get('q') || '';
  const status = q.get('status') || '';
  const cursor = q.get('cursor') || '';
  const results = h('div', { 'aria-live': 'polite' });

  const qInput = h('input', { id: 'devices-q', type: 'search', name: 'q', value: search, placeholder: 'Serial or name', autocomplete: 'off', spellcheck: 'false' });
  const statusSel = h('select', { id: 'devices-status', name: 'status' },
    h('option', { value: '' }, 'Any status'),
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, `Has ${s}`)));
  const form = h('form', {
    class: 'filters', role: 'search',
    onsubmit: (ev) => {
      ev.preventDefault();
      navigate('/devices' + query({ q: qInput.value.trim(), status: statusSel.value }));
    },
  },
  h('div', { class: 'field inline' }, h('label', { for: 'devices-q' }, 'Search'), qInput),
  h('div', { class: 'field inline' }, h('label', { for: 'devices-status' }, 'Status'), statusSel),
  h('button', { type: 'submit', class: 'btn btn-primary' }, 'Search'));
  root.append(pageHead('Devices'), form, results);

  try {
    const page = await api('GET', '/api/v1/devices' + query({ q: search, status, cursor, limit: PAGE }));
    const rows = page.devices || [];
    results.append(
      table({
        caption: 'Devices',
        empty: search || status ? 'No device matches.' : 'No devices enrolled yet. Devices appear here once their agent enrolls with an enroll secret.',
        rows,
        columns: [
          { label: 'Serial', cell: (d) => h('a', { href: `#/devices/${d.id}` }, d.serial) },
          { label: 'Name', cell: (d) => d.name || '—' },
          { label: 'Deployments', cell: (d) => countsCell(d.counts) },
          { label: 'Last check-in', cell: (d) => timeEl(d.last_checkin_at) },
          { label: 'Enrolled', cell: (d) => timeEl(d.enrolled_at) },
        ],
      }),
      h('nav', { class: 'pager', 'aria-label': 'Pages' },
        cursor ? h('a', { class: 'btn', href: '#/devices' + query({ q: search, status }) }, '« First page') : null,
        page.next_cursor ? h('a', { class: 'btn', href: '#/devices' + query({ q: search, status, cursor: page.next_cursor }) }, 'Next page »') : null));
  } catch (err) {
    results.append(notice('error', `Could not load devices: ${err.message}`));
  }
}
