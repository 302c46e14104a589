// ESLint flat config. Besides style, it enforces the layer arrows of docs/architecture.md:
//   core/          imports no electron, svelte, native module, nor any outer layer; outside core/api it does
//                  not import core/api/** (each domain schema lives in core/<module>/schema.ts)
//   renderer/      imports only svelte, its own files, the api client + contract from core/api, the
//                  browser-safe core/units.ts, and the types (only) of core/errors.ts
//   native modules (keytar, @napi-rs/keyring, serialport, usb) only inside native-bridge/
//   electron       only inside electron/
//   native-bridge/ adapters only: no emulator/, no core/api/handlers (it implements core's ports)
//   emulator/      a device: no host session (core/deploy/session.ts, deploy.ts); protocol constants only
//   composition/   the composition root: wires native-bridge/ and emulator/ into core's ports; cli/ and
//                  electron/ start from it
// test/unit/lint/layers.test.ts proves that a wrong import fails lint.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

// Package names are matched with anchored regexes: a gitignore-style `usb/*` would also match a relative
// path such as `../native-bridge/usb/index.js`.
const nativeOnlyInBridge = {
  regex: '^(keytar|@napi-rs/keyring|serialport|@serialport/[^/]+|usb)(/|$)',
  message: 'Native modules load only inside native-bridge/ (lazily); use the core port instead.',
};
const electronOnlyInShell = {
  regex: '^electron(/|$)',
  message: 'electron is imported only inside electron/.',
};

const corePatterns = [
  nativeOnlyInBridge,
  electronOnlyInShell,
  { regex: '^svelte(/|$)', message: 'core/ is UI-free.' },
  {
    group: ['**/native-bridge/**', '**/composition/**', '**/electron/**', '**/renderer/**', '**/cli/**', '**/emulator/**'],
    message: 'core/ depends on nothing outside core/: reach the OS through a port.',
  },
];
// A relative import whose path goes through a folder named `api` (from core/<module>/..., that is core/api).
const coreModulesNotApi = {
  regex: '^\\.\\.?/(?:[^/]+/)*api/',
  message: 'Outside core/api, core may not import core/api/**: import the schema from its module (core/<module>/schema.ts).',
};

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'assets/**', 'test-results/**', 'playwright-report/**', 'bin/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
      globals: { ...globals.browser },
    },
  },
  // --- Layer arrows -------------------------------------------------------------------------------
  {
    files: ['**/*.{ts,js,mjs,svelte}'],
    ignores: ['native-bridge/**', 'electron/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [nativeOnlyInBridge, electronOnlyInShell] }],
    },
  },
  {
    files: ['electron/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [nativeOnlyInBridge] }] },
  },
  {
    files: ['native-bridge/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            electronOnlyInShell,
            {
              group: ['**/emulator/**', '**/core/api/handlers/**', '**/composition/**'],
              message: 'native-bridge/ holds adapters for core ports; the composition root (composition/) wires them to the emulator and the api.',
            },
          ],
        },
      ],
      // no-restricted-imports does not see `await import(...)`: the same arrows for dynamic imports.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression[source.value=/(^|\\/)(emulator|core\\/api\\/handlers|composition)\\//]',
          message: 'native-bridge/ holds adapters for core ports; the composition root (composition/) wires them to the emulator and the api.',
        },
      ],
    },
  },
  {
    // The emulator is a device: it speaks the protocol (core/deploy/protocol.ts), never the host's side of it.
    files: ['emulator/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nativeOnlyInBridge,
            electronOnlyInShell,
            {
              group: ['**/core/deploy/session.js', '**/core/deploy/deploy.js'],
              message: 'The emulator (a device) takes protocol constants from core/deploy/protocol.ts, not from the host session.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['core/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: corePatterns }] },
  },
  {
    // The api is the outermost ring of core: core/api composes the modules' schemas (core/<module>/schema.ts)
    // into the contract and calls the modules; no module reaches back into core/api.
    files: ['core/**'],
    ignores: ['core/api/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...corePatterns, coreModulesNotApi] }] },
  },
  {
    // service.ts imports every handler; a handler importing it back is a cycle (the types are in context.ts).
    files: ['core/api/handlers/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...corePatterns,
            {
              group: ['**/api/service.js', '../service.js'],
              message: 'Handlers import ApiContext/AreaHandlers from core/api/context.ts, not service.ts (which imports them).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/src/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nativeOnlyInBridge,
            electronOnlyInShell,
            { regex: '^node:', message: 'The renderer runs in a sandboxed page: no Node built-ins.' },
            {
              // gitignore-style negation cannot re-include a file under an excluded folder: use a regex.
              regex: '(^|/)core/(?!(api/client|api/contract|errors|units)\\.js$)',
              message: 'The renderer imports only the api client, the contract, error types and the byte formatter (units) from core/.',
            },
            {
              group: ['**/native-bridge/**', '**/composition/**', '**/electron/**', '**/cli/**', '**/emulator/**'],
              message: 'The renderer talks to the app only through the api client.',
            },
          ],
        },
      ],
      // Errors reach the renderer whole (code, message, hint) through the api: core/errors.ts is imported
      // for its types only, never to re-read ERROR_TABLE.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)core/errors\\.js$',
              allowTypeImports: true,
              message: 'The renderer imports only types from core/errors.ts: errors arrive from the api with their code, message and hint.',
            },
          ],
        },
      ],
    },
  },
);
