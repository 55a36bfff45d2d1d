// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Layering (see ARCHITECTURE.md): protocol ← core ← element; protocol ← server. */
const layer = (files, forbidden, message) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { patterns: forbidden.map((group) => ({ group: [group], message })) }],
  },
});

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'packages/*/dist/**',
      'node_modules/**',
      'uploads/**',
      'bench/results/**',
      'custom-elements.json',
    ],
  },
  js.configs.recommended,
  {
    files: ['*.mjs', '*.js', 'bench/**/*.mjs', '.ci/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  layer(
    ['src/protocol/**'],
    ['**/core/**', '**/server/**', '**/element/**', 'ws', 'lit', 'lit/*', 'node:*'],
    'src/protocol imports nothing: it is the shared wire contract.',
  ),
  layer(
    ['src/core/**'],
    ['**/server/**', '**/element/**', 'ws', 'lit', 'lit/*', 'node:*'],
    'src/core is the browser core: standard web APIs and src/protocol only.',
  ),
  layer(
    ['src/server/**'],
    ['**/core/**', '**/element/**', 'lit', 'lit/*'],
    'src/server never imports the browser core or the element.',
  ),
  layer(['src/element/**'], ['**/server/**', 'ws', 'node:*'], 'src/element never imports the server.'),
);
