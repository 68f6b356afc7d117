import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href;

/**
 * Runs a TypeScript benchmark script in a fresh Node process (through tsx) and parses the last line
 * of its stdout as JSON. A fresh process per run keeps process-wide state (JIT, the
 * AsyncLocalStorage promise hook) from leaking between runs and scenarios.
 * @param timeoutMs kill the script after this long, in ms. Default 300 000.
 * @throws Error (rejects) when the script fails, times out or prints no JSON.
 */
export function runJsonScript<T>(script: string, args: readonly string[], timeoutMs = 300_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', TSX_LOADER, script, ...args],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${script} failed: ${error.message}\n${stderr.slice(-2_000)}`));
        const last = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(last) as T);
        } catch {
          reject(new Error(`${script} printed no JSON: ${last.slice(0, 200)}`));
        }
      },
    );
  });
}
