/** Where a CLI command reads and writes; the process's streams in `main.ts`, buffers in tests. */
export interface CliIo {
  /** Write to standard output (no newline added). */
  readonly out: (text: string) => void;
  /** Write to standard error (no newline added). */
  readonly err: (text: string) => void;
  /** Standard input, for `-` arguments. */
  readonly stdin: NodeJS.ReadableStream;
}

/** Exit codes of every command: 0 fine, 1 the input is bad (invalid config, failed resolution), 2 usage error. */
export const EXIT = Object.freeze({ ok: 0, invalid: 1, usage: 2 });

/** Read a whole stream as UTF-8. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
