import { parseDotnetDate } from '../keyring/dotnetDate';

/**
 * An instant from an operator or a request (`--at`, `--now`, `?at=`): an xsd:dateTime (no zone =
 * UTC) or a bare date (midnight UTC). Impossible dates (February 30th, hour 24) are refused rather
 * than rolled over as Date.parse does.
 */
export function parseInstant(text: string): number | undefined {
  const trimmed = text.trim();
  return parseDotnetDate(/^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00:00Z` : trimmed);
}
