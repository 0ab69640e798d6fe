import { UnknownRingError } from '../app/selectRings';
import { ConfigError } from '../config/ConfigError';
import { EXIT_USAGE, type CliIo } from './CliIo';
import { UsageError } from './parseArgs';

/** Usage and configuration errors are the user's to fix: print them (with usage) and exit 2. Undefined for anything else. */
export function reportUsageOrConfigError(err: unknown, io: CliIo, usage: string): number | undefined {
  if (err instanceof UsageError) {
    io.stderr.write(`ringkeeper: ${err.message}\n\n${usage}`);
    return EXIT_USAGE;
  }
  if (err instanceof UnknownRingError) {
    io.stderr.write(`ringkeeper: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof ConfigError) {
    io.stderr.write(`ringkeeper: configuration error: ${err.message}\n`);
    return EXIT_USAGE;
  }
  return undefined;
}
