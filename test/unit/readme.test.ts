/**
 * README code that must stay real: the deadline-propagation snippet is the `readme` region of
 * examples/propagate-deadlines.ts, which tsc compiles and test/integration/examples.test.ts runs.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const read = (file: string): string => readFileSync(resolve(root, file), 'utf8');

/** The text between `// #region <name>` and `// #endregion <name>` lines. */
function region(source: string, name: string): string {
  const start = source.indexOf(`// #region ${name}\n`);
  const end = source.indexOf(`// #endregion ${name}\n`);
  expect(start, `region ${name}`).toBeGreaterThanOrEqual(0);
  return source.slice(source.indexOf('\n', start) + 1, end);
}

/** The first ```ts block after `heading`. */
function codeBlockAfter(markdown: string, heading: string): string {
  const at = markdown.indexOf(heading);
  expect(at, heading).toBeGreaterThanOrEqual(0);
  const open = markdown.indexOf('```ts\n', at) + '```ts\n'.length;
  return markdown.slice(open, markdown.indexOf('```\n', open));
}

describe('README', () => {
  // Breaking it (editing the README snippet by hand) lets it drift into code that does not compile again.
  it('shows the deadline-propagation example exactly as examples/propagate-deadlines.ts has it', () => {
    expect(codeBlockAfter(read('README.md'), '### Deadline and cancellation propagation'))
      .toBe(region(read('examples/propagate-deadlines.ts'), 'readme'));
  });
});
