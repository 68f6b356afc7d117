#!/usr/bin/env node
// Builds the package: CommonJS + declarations with tsc, then a thin ES module entry that re-exports the
// CommonJS build by name. One implementation serves `require` and `import`, so registries (resolvers,
// policies) are shared however the application loads switchyard.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});

const require = createRequire(import.meta.url);
const names = Object.keys(require(path.join(root, 'dist/index.js'))).filter((name) => name !== '__esModule').sort();
const esm = [
  "import cjs from './index.js';",
  ...names.map((name) => `export const ${name} = cjs.${name};`),
  'export default cjs;',
  '',
].join('\n');
writeFileSync(path.join(root, 'dist/index.mjs'), esm);
writeFileSync(path.join(root, 'dist/index.d.mts'), "export * from './index.js';\n");
console.log(`build: dist/index.js (CommonJS) and dist/index.mjs (ESM) with ${names.length} exports`);
