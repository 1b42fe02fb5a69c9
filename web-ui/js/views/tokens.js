// API tokens: admin (everything) and observer (read only).
import { credentialsPage } from './credentials.js';

export function tokensView(root) {
  return credentialsPage(root, {
    id: 'token',
    title: 'API tokens',
    intro: 'Tokens for this dashboard and for scripts (Authorization: Bearer). Observers can read everything and change nothing.',
    path: '/api/v1/tokens',
    listKey: 'tokens',
    noun: 'token',
    valueKey: 'token',
    valueLabel: 'New API token',
    deleteMessage: 'Anyone using this token is signed out at their next request. Deleting the token you are signed in with signs you out.',
    fields: [
      { name: 'name', label: 'Name', required: true, hint: 'Who or what uses it, e.g. "helpdesk" or "monitoring".' },
      { name: 'role', label: 'Role', type: 'select', value: 'observer', options: [
        { value: 'observer', label: 'Observer (read only)' },
        { value: 'admin', label: 'Admin (read and change everything)' },
      ] },
    ],
    body: (v) => ({ name: v.name, role: v.role }),
    columns: [{ label: 'Role', cell: (r) => r.role }],
  });
}
