// Enroll secrets: what a device's agent presents once to enroll.
import { credentialsPage } from './credentials.js';

export function secretsView(root) {
  return credentialsPage(root, {
    id: 'secret',
    title: 'Enroll secrets',
    intro: 'A device enrolls once with an enroll secret (certdeploy-agent enroll --enroll-secret …) and then uses its own device token.',
    path: '/api/v1/enroll-secrets',
    listKey: 'enroll_secrets',
    noun: 'enroll secret',
    valueKey: 'secret',
    valueLabel: 'New enroll secret',
    deleteMessage: 'Devices can no longer enroll with it. Devices already enrolled keep working.',
    fields: [{ name: 'name', label: 'Name', required: true, hint: 'Where it is used, e.g. "laptops 2025".' }],
    body: (v) => ({ name: v.name }),
    afterCreate: () => `Enroll a device: certdeploy-agent --server ${location.origin} --state-dir DIR enroll --enroll-secret <secret> --serial <serial>`,
  });
}
