// A vitest reporter that writes what has finished to a file after every test file, so scripts/test.mjs
// can report the outcome even when vitest 4's process pool fails to shut down after the last file on a
// loaded machine (vitest-dev/vitest#10162; fixed only in vitest 5, which needs Node 22).
import { writeFileSync } from 'node:fs';

export default class ProgressReporter {
  constructor(options = {}) {
    this.file = options.file ?? process.env.SWITCHYARD_PROGRESS_FILE ?? '.tmp/vitest-progress.json';
    this.state = { total: 0, finished: 0, passed: 0, failed: 0, skipped: 0, failedFiles: [], done: false, unhandledErrors: 0 };
  }

  write() {
    writeFileSync(this.file, JSON.stringify(this.state));
  }

  onTestRunStart(specifications) {
    this.state.total = specifications.length;
    this.write();
  }

  onTestModuleEnd(module) {
    const count = (state) => [...module.children.allTests(state)].length;
    this.state.finished++;
    this.state.passed += count('passed');
    this.state.failed += count('failed');
    this.state.skipped += count('skipped');
    const moduleErrors = typeof module.errors === 'function' ? module.errors().length : 0;
    if (!module.ok() || moduleErrors > 0) this.state.failedFiles.push(module.relativeModuleId ?? module.moduleId);
    this.write();
  }

  onTestRunEnd(_modules, unhandledErrors) {
    this.state.unhandledErrors = unhandledErrors.length;
    this.state.done = true;
    this.write();
  }
}
