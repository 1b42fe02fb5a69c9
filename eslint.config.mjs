// ESLint flat config (`make check` runs `eslint` over web-ui/, tests/ and
// bench/): eslint's recommended rules, with the globals of where each file
// runs. .mjs so that Node reads it as ESM without "type": "module" in
// package.json.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['build/', 'node_modules/', 'var/'] },
  js.configs.recommended,
  {
    // the dashboard: ES modules loaded by the browser
    files: ['web-ui/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.browser },
  },
  {
    // node --test files, their helpers, the bench scripts and this file
    files: ['tests/**/*.mjs', 'bench/**/*.mjs', 'eslint.config.mjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.node },
  },
  {
    // the callbacks these hand to page.evaluate and waitForFunction run in
    // the page: the browser names they use, and no others
    files: ['tests/browser/**/*.mjs'],
    languageOptions: { globals: { document: 'readonly', window: 'readonly', location: 'readonly' } },
  },
];
