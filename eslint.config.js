import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', 'packages/*/*/index.js', 'test/fixtures/*/packages/*/*/index.js', 'web/dist/', '.data/', 'build/', 'dist/', 'test-results/', 'coverage/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      // `import { z }` pulls every zod locale into each function bundle (≈ 450 KB); the namespace
      // import lets esbuild keep only what is used (≈ 90 KB).
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'] > ImportSpecifier[imported.name='z']",
          message: "Use `import * as z from 'zod'`: it keeps function bundles small.",
        },
      ],
    },
  },
);
