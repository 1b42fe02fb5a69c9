// Shared page for credentials that are shown once: API tokens and enroll
// secrets. Lists them (never their values), creates one and shows its
// value once with a copy button, deletes after confirmation.
import { api, listAll } from '../api.js';
import { confirmDialog } from '../dialog.js';
import { buildForm } from '../forms.js';
import { isAdmin } from '../session.js';
import { button, busy, copyField, flash, h, notice, pageHead, replace, table, timeEl } from '../ui.js';

/**
 * cfg: {id, title, intro, path, listKey, noun, valueKey, valueLabel,
 * fields, columns (extra), afterCreate(text)}.
 */
export async function credentialsPage(root, cfg) {
  const admin = isAdmin();
  const shown = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  root.append(pageHead(cfg.title), h('p', { class: 'muted' }, cfg.intro), shown);

  if (admin) {
    const form = buildForm({
      id: `${cfg.id}-new`,
      submitLabel: `Create ${cfg.noun}`,
      fields: cfg.fields,
      onSubmit: async (v) => {
        const created = await api('POST', cfg.path, { body: cfg.body(v) });
        replace(shown, h('section', { class: 'card once', 'aria-labelledby': `${cfg.id}-once-title` },
          h('h2', { id: `${cfg.id}-once-title` }, `${cfg.noun[0].toUpperCase()}${cfg.noun.slice(1)} “${created.name}” created`),
          h('p', {}, h('strong', {}, 'Copy it now: '), `it is shown only once. The server keeps only a hash.`),
          copyField(cfg.valueLabel, created[cfg.valueKey], `${cfg.id}-value`),
          cfg.afterCreate ? h('p', { class: 'muted' }, cfg.afterCreate(created)) : null));
        shown.querySelector('input').focus();
        shown.querySelector('input').select();
        form.el.reset();
        await load();
      },
    });
    root.append(h('section', { class: 'card' }, h('h2', {}, `New ${cfg.noun}`), form.el));
  }
  root.append(h('h2', {}, `Existing ${cfg.noun}s`), list);

  async function remove(btn, row) {
    const ok = await confirmDialog({
      title: `Delete ${cfg.noun} “${row.name}”?`,
      message: cfg.deleteMessage,
      confirmLabel: `Delete ${cfg.noun}`,
      danger: true,
    });
    if (!ok) return;
    await busy(btn, async () => {
      try {
        await api('DELETE', `${cfg.path}/${row.id}`);
        flash('ok', `Deleted ${cfg.noun} “${row.name}”.`);
      } catch (err) {
        flash('error', `Could not delete “${row.name}”: ${err.message}`);
      }
      await load();
    });
  }

  async function load() {
    try {
      const { rows } = await listAll(cfg.path, cfg.listKey);
      const columns = [
        { label: 'Name', cell: (r) => r.name },
        ...(cfg.columns || []),
        { label: 'Created', cell: (r) => timeEl(r.created_at) },
      ];
      if (admin) {
        columns.push({ label: 'Action', cell: (r) => button('Delete', (ev) => remove(ev.currentTarget, r), { kind: 'danger', 'aria-label': `Delete ${cfg.noun} ${r.name}` }) });
      }
      replace(list, table({ columns, rows, caption: cfg.title, empty: `No ${cfg.noun}s.` }));
    } catch (err) {
      replace(list, notice('error', `Could not load: ${err.message}`));
    }
  }
  await load();
}
