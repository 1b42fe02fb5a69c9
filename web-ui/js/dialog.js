// Modal confirmation built on <dialog>: the page behind is inert while it
// is open, Escape cancels, and focus returns to whatever opened it.
import { h } from './ui.js';

let seq = 0;

/**
 * Asks before an action. Resolves true when confirmed. danger: styles the
 * confirm button as destructive and puts initial focus on Cancel.
 */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false }) {
  const opener = document.activeElement;
  const id = `dlg-${++seq}`;
  return new Promise((resolve) => {
    let result = false;
    const cancel = h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, 'Cancel');
    const ok = h('button', {
      type: 'button',
      class: `btn ${danger ? 'btn-danger' : 'btn-primary'}`,
      onclick: () => { result = true; dlg.close(); },
    }, confirmLabel);
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': `${id}-t`, 'aria-describedby': `${id}-m` },
      h('h2', { id: `${id}-t` }, title),
      h('p', { id: `${id}-m` }, message),
      h('div', { class: 'actions' }, cancel, ok));
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      resolve(result);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    (danger ? cancel : ok).focus();
  });
}
