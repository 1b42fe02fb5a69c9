// Labelled forms whose errors come from the API: an error body naming a
// field ({"error":{"field":"api_token",...}}) is shown next to that field,
// anything else above the buttons.
import { h, replace } from './ui.js';

/**
 * Builds a form. fields: [{name, label, type (text|password|number|url|
 * select|textarea|checkbox), value, hint, options [{value,label}],
 * placeholder, autocomplete, required}]. onSubmit(values) may throw an
 * ApiError. Returns {el, input(name), showError(err), clearErrors()}.
 */
export function buildForm({ id, fields, submitLabel, onSubmit, cancel }) {
  const controls = new Map();
  const formError = h('div', { class: 'form-error', id: `${id}-error`, role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel);

  const rows = fields.map((f) => {
    const inputId = `${id}-${f.name}`;
    const hintId = f.hint ? `${inputId}-hint` : null;
    const errId = `${inputId}-error`;
    const describedBy = [hintId, errId].filter(Boolean).join(' ');
    let input;
    if (f.type === 'select') {
      input = h('select', { id: inputId, name: f.name, 'aria-describedby': describedBy },
        (f.options || []).map((o) => h('option', { value: o.value, selected: o.value === f.value }, o.label)));
    } else if (f.type === 'textarea') {
      input = h('textarea', { id: inputId, name: f.name, rows: f.rows || 4, placeholder: f.placeholder, 'aria-describedby': describedBy, spellcheck: 'false' });
      input.value = f.value ?? '';
    } else if (f.type === 'checkbox') {
      input = h('input', { id: inputId, name: f.name, type: 'checkbox', checked: !!f.value, 'aria-describedby': describedBy });
    } else {
      input = h('input', {
        id: inputId, name: f.name, type: f.type || 'text', value: f.value ?? '',
        placeholder: f.placeholder, autocomplete: f.autocomplete || 'off', min: f.min,
        spellcheck: 'false', 'aria-describedby': describedBy, required: f.required,
      });
    }
    const error = h('p', { class: 'field-error', id: errId, hidden: true });
    controls.set(f.name, { f, input, error });
    const label = h('label', { for: inputId }, f.label);
    const hint = f.hint ? h('p', { class: 'hint', id: hintId }, f.hint) : null;
    if (f.type === 'checkbox') {
      return h('div', { class: 'field field-check' }, h('div', { class: 'check-row' }, input, label), hint, error);
    }
    return h('div', { class: 'field' }, label, input, hint, error);
  });

  const el = h('form', { id, class: 'form', novalidate: true },
    rows, formError,
    h('div', { class: 'actions' }, submit, cancel || null));

  function clearErrors() {
    formError.replaceChildren();
    for (const { input, error } of controls.values()) {
      input.removeAttribute('aria-invalid');
      error.hidden = true;
      error.replaceChildren();
    }
  }

  function showError(err) {
    const name = err && err.field ? String(err.field).split(/[[.]/)[0] : null;
    const c = name && controls.get(name);
    if (c) {
      replace(c.error, err.message);
      c.error.hidden = false;
      c.input.setAttribute('aria-invalid', 'true');
      c.input.focus();
    } else {
      replace(formError, h('p', { class: 'notice notice-error' }, err && err.message ? err.message : String(err)));
    }
  }

  function values() {
    const out = {};
    for (const [name, { f, input }] of controls) {
      if (f.type === 'checkbox') out[name] = input.checked;
      else if (f.type === 'password' || f.type === 'textarea') out[name] = input.value;
      else out[name] = input.value.trim();
    }
    return out;
  }

  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    try {
      await onSubmit(values());
    } catch (err) {
      showError(err);
    } finally {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
    }
  });

  return { el, input: (name) => controls.get(name)?.input, showError, clearErrors };
}
