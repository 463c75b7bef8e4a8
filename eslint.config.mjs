// Lint: rules that catch real bugs (promises nobody waits for, unused code, stray `any`), run by
// `npm run lint` and in `npm test`. Style is left to the code review; tsc does the type checks.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['vitest.config.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Style rules that flag deliberate code here: control characters in regexes that refuse
      // them, a `let` assigned once after a closure that reads it was made, defaults overwritten
      // in a try.
      'no-control-regex': 'off',
      'prefer-const': 'off',
      'no-useless-assignment': 'off',
    },
  },
  {
    // Tests and benchmarks drive the API with deliberately loose values.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The DSL's builder types are generic over the data each state sees: `any` there is the
    // variance escape hatch TypeScript needs (a Workflow<Order> must fit where Workflow<any> is
    // expected), not unchecked values.
    files: ['src/dsl/builder.ts', 'src/dsl/definition.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
