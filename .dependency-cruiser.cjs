// Layer rules (docs/architecture.md): imports run down `channel → call → subchannel → transport`; the
// shared modules below them (telemetry among them) never import a layer; no cycles; the command line
// (src/cli) may import anything and nothing imports it. `npm run lint:deps`; run in CI.
const LAYERS = '^src/(channel|call|subchannel|transport)/';
const SHARED = '^src/(picker|config|retry|deadline|resolver|json|telemetry)/|^src/(backoff|clock|errors)\\.ts$';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'transport-is-the-bottom-layer', severity: 'error', from: { path: '^src/transport/' }, to: { path: '^src/(subchannel|call|channel)/' } },
    { name: 'subchannel-below-call', severity: 'error', from: { path: '^src/subchannel/' }, to: { path: '^src/(call|channel)/' } },
    { name: 'call-below-channel', severity: 'error', from: { path: '^src/call/' }, to: { path: '^src/channel/' } },
    { name: 'shared-modules-import-no-layer', severity: 'error', from: { path: SHARED }, to: { path: LAYERS } },
    { name: 'policies-never-import-config', severity: 'error', from: { path: '^src/picker/' }, to: { path: '^src/config/' } },
    {
      name: 'ground-floor-imports-only-ground',
      severity: 'error',
      from: { path: '^src/(json/|backoff\\.ts|clock\\.ts|errors\\.ts)' },
      to: { path: '^src/', pathNot: '^src/(json/|errors\\.ts|clock\\.ts)' },
    },
    { name: 'only-the-entry-imports-the-entry', severity: 'error', from: { path: '^src/' }, to: { path: '^src/index\\.ts$' } },
    { name: 'nothing-imports-the-cli', severity: 'error', from: { path: '^src/', pathNot: '^src/cli/' }, to: { path: '^src/cli/' } },
    { name: 'src-never-imports-tests', severity: 'error', from: { path: '^src/' }, to: { path: '^(test|bench|examples)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(node_modules|dist)/' },
  },
};
