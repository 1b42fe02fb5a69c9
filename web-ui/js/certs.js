// Certificates as the API shows them ({serial, not_before, not_after,
// sha256, valid}) and the renewal window the server applies to them.
import { h, timeEl, fmtRelative } from './ui.js';

const DAY = 86400;

/**
 * Seconds before expiry at which the server renews: the profile's
 * renew_before_days, else 30 days for certificates valid over 30 days,
 * else half the validity (DESIGN.md, "Renewal is decided locally first").
 */
export function renewalWindowSeconds(profile, cert) {
  if (profile && profile.renew_before_days) return profile.renew_before_days * DAY;
  const validity = (Date.parse(cert.not_after) - Date.parse(cert.not_before)) / 1000;
  return validity > 30 * DAY ? 30 * DAY : validity / 2;
}

/** True when cert is still valid but inside its renewal window. */
export function expiringSoon(profile, cert, now = Date.now()) {
  if (!cert || !cert.valid) return false;
  const left = (Date.parse(cert.not_after) - now) / 1000;
  return left > 0 && left <= renewalWindowSeconds(profile, cert);
}

/** "Yes, until … (in 3 days)" / "No" for a deployment's installed certificate. */
export function validityText(cert) {
  if (!cert) return h('span', { class: 'muted' }, 'No certificate installed');
  if (!cert.valid) return h('span', { class: 'no' }, 'No (', timeEl(cert.not_after), ')');
  return h('span', { class: 'yes' }, `Yes, expires ${fmtRelative(cert.not_after)}`);
}

/** A description list of one certificate, or a note when there is none. */
export function certDetails(title, cert, emptyText) {
  return h('section', { class: 'cert' },
    h('h4', {}, title),
    cert
      ? h('dl', { class: 'kv' },
        h('dt', {}, 'Serial'), h('dd', { class: 'mono' }, cert.serial),
        h('dt', {}, 'Valid from'), h('dd', {}, timeEl(cert.not_before)),
        h('dt', {}, 'Valid until'), h('dd', {}, timeEl(cert.not_after), ' ',
          h('span', { class: cert.valid ? 'muted' : 'no' }, cert.valid ? `(${fmtRelative(cert.not_after)})` : '(expired)')),
        h('dt', {}, 'SHA-256'), h('dd', { class: 'mono hash' }, cert.sha256),
        h('dt', {}, 'Valid now'), h('dd', {}, cert.valid ? h('span', { class: 'yes' }, 'Yes') : h('span', { class: 'no' }, 'No')))
      : h('p', { class: 'muted' }, emptyText));
}
