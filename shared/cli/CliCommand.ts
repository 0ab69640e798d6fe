import type { CliIo } from './CliIo';

/** One `ringkeeper` command: the command table in main.ts lists them; `--help` prints `help` for every one. */
export interface CliCommand {
  /** One or more lines for the overview (`ringkeeper --help`). */
  synopsis: string;
  /** What `ringkeeper <command> --help` prints. */
  help: string;
  /** Runs the command with the arguments after its name; throws UsageError/ConfigError for exit 2. */
  run(args: string[], io: CliIo): Promise<number>;
}
