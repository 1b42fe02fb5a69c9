// The stacked bar of deployment statuses (verified, verifying, pending,
// failed) with the numbers spelled out beside it.
import { h, STATUSES } from './ui.js';

const LABELS = { verified: 'Verified', verifying: 'Verifying', pending: 'Pending', failed: 'Failed' };

/** counts: {verified, verifying, pending, failed}. compact: no legend. */
export function statusBar(counts, { compact = false } = {}) {
  const total = STATUSES.reduce((s, k) => s + (counts[k] || 0), 0);
  const summary = total === 0
    ? 'No deployments'
    : STATUSES.map((k) => `${counts[k] || 0} ${k}`).join(', ');
  const bar = h('div', { class: `bar${compact ? ' bar-compact' : ''}`, role: 'img', 'aria-label': summary, title: summary });
  if (total === 0) bar.classList.add('bar-empty');
  for (const k of STATUSES) {
    const n = counts[k] || 0;
    if (!n) continue;
    const seg = h('span', { class: `seg status-${k}` });
    // CSSOM, not a style attribute: allowed by the strict CSP.
    seg.style.flexGrow = String(n);
    bar.appendChild(seg);
  }
  if (compact) return bar;
  const legend = h('ul', { class: 'legend' }, STATUSES.map((k) =>
    h('li', { dataset: { status: k } }, h('span', { class: `swatch status-${k}`, 'aria-hidden': 'true' }),
      `${LABELS[k]} `, h('strong', {}, String(counts[k] || 0)))));
  return h('div', { class: 'statusbar' }, bar, legend);
}
