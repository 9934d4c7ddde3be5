import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './build/lint/layers.js';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'renderer/dist/**', 'bench/results/**', 'test-artifacts/**', 'workspace/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { layers },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'layers/imports': 'error',
    },
  },
);
