#!/usr/bin/env node
// Checks the published shape: the exports map resolves for both `require` and `import`, with the
// public entry points present (run after `npm run build`).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

const require = createRequire(import.meta.url);
const expected = ['createChannel', 'registerResolver', 'registerLoadBalancingPolicy', 'propagateDeadlines', 'ConfigError'];
const cjs = require('switchyard');
const esm = await import('switchyard');
for (const [kind, mod] of [['require', cjs], ['import', esm]]) {
  const absent = expected.filter((name) => typeof mod[name] !== 'function');
  if (absent.length > 0) {
    console.error(`package check: ${kind}('switchyard') lacks ${absent.join(', ')}`);
    process.exit(1);
  }
}
for (const types of ['dist/index.d.ts', 'dist/index.d.mts']) {
  if (!existsSync(types)) {
    console.error(`package check: ${types} is missing`);
    process.exit(1);
  }
}
console.log('package check: require and import both resolve switchyard with types');
