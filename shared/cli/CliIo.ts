import type { Readable, Writable } from 'node:stream';

/** Everything a CLI command touches of its process, so commands run the same in tests. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM for long-running commands (dev, cache tail). */
  signal?: AbortSignal;
}

/** Exit codes of the CLI contract. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
