// Small DOM helpers. Data only ever reaches the page as text nodes or
// attribute values (never through innerHTML), so a device name or a CA's
// error message cannot inject markup.

/**
 * Creates an element. attrs: class, text, on<Event> handlers, dataset,
 * boolean attributes (true sets, false/null omits), anything else as an
 * attribute; value/checked as properties. children: nodes, strings,
 * numbers, arrays; null/false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' || k === 'checked') el[k] = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'innerHTML' || k === 'style') throw new Error(`h(): ${k} is not allowed`);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces el's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const pad = (n) => String(n).padStart(2, '0');

/** "2025-01-31 14:05" in the browser's time zone; "—" for null. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "3 days", "5 min", "12 s" for a duration in seconds (absolute value). */
export function fmtDuration(seconds) {
  const s = Math.abs(Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

/** "in 3 days" / "5 min ago" relative to now. */
export function fmtRelative(iso) {
  if (!iso) return '';
  const diff = (new Date(iso).getTime() - Date.now()) / 1000;
  return diff >= 0 ? `in ${fmtDuration(diff)}` : `${fmtDuration(diff)} ago`;
}

/** A <time> showing the local time, with a relative hint as its title. */
export function timeEl(iso) {
  if (!iso) return h('span', { class: 'muted', text: '—' });
  return h('time', { datetime: iso, title: `${fmtRelative(iso)} (${iso})` }, fmtTime(iso));
}

export const STATUSES = ['verified', 'verifying', 'pending', 'failed'];

/** A coloured status label. */
export function statusBadge(status) {
  return h('span', { class: `badge status-${status}` }, status);
}

/**
 * A table that turns into labelled cards on narrow screens. columns:
 * [{label, cell(row) → node|string, class}]; empty: text when no rows.
 */
export function table({ columns, rows, empty = 'Nothing here yet.', caption, rowClass }) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'data' },
      caption ? h('caption', { class: 'sr-only' }, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', { class: rowClass ? rowClass(r) : null },
        columns.map((c) => h('td', { class: c.class, dataset: { label: c.label } }, h('div', { class: 'cell' }, c.cell(r)))))))));
}

/** A button; kind: primary | danger | quiet (default: secondary). */
export function button(label, onClick, { kind, ...attrs } = {}) {
  return h('button', { type: 'button', class: `btn${kind ? ` btn-${kind}` : ''}`, onclick: onClick, ...attrs }, label);
}

/** Disables btn while the promise from fn runs; shows busyLabel meanwhile. */
export async function busy(btn, fn, busyLabel) {
  const label = btn.textContent;
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  if (busyLabel) btn.textContent = busyLabel;
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
    if (busyLabel) btn.textContent = label;
  }
}

const flashEl = () => document.getElementById('flash');

/** Shows a message at the top of the page; kind: ok | error | info. */
export function flash(kind, text) {
  const el = flashEl();
  replace(el, h('p', { class: `notice notice-${kind}` }, text,
    h('button', { type: 'button', class: 'btn btn-quiet btn-small', 'aria-label': 'Dismiss message', onclick: () => el.replaceChildren() }, '×')));
}

export function clearFlash() {
  flashEl().replaceChildren();
}

/** An inline error or info box inside a page. */
export function notice(kind, ...text) {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : null }, ...text);
}

/** A read-only value with a button that copies it (shown once secrets). */
export function copyField(labelText, value, id) {
  const out = h('input', { id, class: 'mono', type: 'text', readonly: true, value, 'aria-label': labelText });
  const status = h('span', { class: 'muted', 'aria-live': 'polite' });
  const copy = button('Copy', async () => {
    try {
      await navigator.clipboard.writeText(value);
      status.textContent = 'Copied.';
    } catch {
      out.select();
      status.textContent = 'Selected: press Ctrl+C to copy.';
    }
  });
  return h('div', { class: 'copy-field' }, out, copy, status);
}

/** Short form of a hex fingerprint or id for tables; full text in title. */
export function shortHex(hex, n = 16) {
  if (!hex) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'mono', title: hex }, hex.length > n ? `${hex.slice(0, n)}…` : hex);
}

/** A page title with optional actions on the right; the h1 takes focus after navigation. */
export function pageHead(title, ...actions) {
  return h('div', { class: 'page-head' },
    h('h1', { tabindex: '-1' }, title),
    h('div', { class: 'page-actions' }, actions));
}

/** Replaces el's content only when key differs from last time, so a
 *  refresh that changed nothing keeps focus, selection and scroll. */
const renderedKeys = new WeakMap();

export function renderIfChanged(el, key, build) {
  if (renderedKeys.get(el) === key) return false;
  renderedKeys.set(el, key);
  const hadFocus = el.contains(document.activeElement);
  replace(el, build());
  if (hadFocus && !el.contains(document.activeElement)) {
    // The focused control was rebuilt: keep keyboard users in this region.
    el.setAttribute('tabindex', '-1');
    el.focus({ preventScroll: true });
  }
  return true;
}
