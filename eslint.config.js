// ESLint flat config: the recommended JS rules plus typescript-eslint's type-aware strict set.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.lameduck/', '.tap/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      // Lines a reader takes in at a glance: 120 columns fit two panes of a review side by side.
      // Strings, template literals, URLs and regular expressions may run longer: a message or a
      // pattern split in pieces is harder to find with grep than a long line is to read.
      'max-len': ['error', {
        code: 120, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true
      }]
    }
  }
)
