// Lint rules: typescript-eslint's recommended type-aware set, plus the project's own
// rule that pure decision modules stay free of I/O (see STYLE.md, "Pure core, thin shell").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Tests poke at loosely typed parsed YAML.
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // Decision modules import no I/O: they take a snapshot and return a result.
    files: [
      'src/monitoring/grafana/*.ts',
      'src/inventory/analyze.ts', 'src/inventory/findings.ts', 'src/inventory/groups.ts', 'src/inventory/rules.ts',
      'src/inventory/schema.ts', 'src/inventory/schema-findings.ts', 'src/inventory/selector.ts', 'src/inventory/templates.ts',
      'src/inventory/vars.ts', 'src/yaml/patch.ts', 'src/yaml/window.ts',
      'src/monitoring/targets.ts', 'src/monitoring/sd-input.ts', 'src/monitoring/rules.ts', 'src/monitoring/rule-tests.ts',
      'src/monitoring/prometheus-config.ts', 'src/monitoring/alertmanager-config.ts', 'src/monitoring/generate.ts',
      'src/monitoring/config-schema.ts', 'src/monitoring/inventory-rules.ts', 'src/monitoring/agent-cert-names.ts', 'src/monitoring/metric-check.ts',
      'src/monitoring/shared-alerts.ts',
      'src/notify/engine.ts', 'src/notify/format.ts', 'src/notify/from-events.ts', 'src/notify/receivers.ts', 'src/notify/types.ts',
      'src/controller/health.ts', 'src/controller/fleet.ts', 'src/controller/discovered.ts', 'src/controller/discovery-targets.ts', 'src/agent/backoff.ts', 'src/agent/profile.ts', 'src/agent/storage.ts',
      'src/agent/facts-parse.ts', 'src/agent/facts-build.ts', 'src/agent/facts-disks.ts', 'src/agent/facts-schema.ts',
      'src/placement/choose.ts', 'src/placement/explain.ts', 'src/placement/fleet.ts', 'src/placement/index.ts', 'src/placement/ledger.ts',
      'src/placement/model.ts', 'src/placement/plan.ts', 'src/placement/ranking.ts', 'src/placement/result.ts', 'src/placement/types.ts',
      'src/inventory/profiles.ts', 'src/services/index.ts', 'src/services/catalog.ts', 'src/services/known.ts',
      'src/services/probe-verdict.ts', 'src/services/resolve.ts', 'src/services/schema.ts', 'src/services/key-readers.ts',
      'src/services/status-version.ts', 'src/agent/service-keys/parse.ts',
      'src/supervisor/*.ts',
      'src/storage/checks.ts', 'src/storage/fleet.ts', 'src/storage/health.ts', 'src/storage/index.ts', 'src/storage/options.ts',
      'src/storage/paths.ts', 'src/storage/plan.ts', 'src/storage/render.ts', 'src/storage/types.ts', 'src/agent/mountinfo.ts',
    ],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:fs*', 'node:net', 'node:child_process', 'node:http*', 'node:dns*'] }],
    },
  },
);
