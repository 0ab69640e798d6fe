/** Longest part of an untrusted value that goes into a message or a log line. */
export const MAX_QUOTED_LENGTH = 100;

/**
 * A value from a request or a command line, safe inside one log line: JSON-quoted (so newlines, NUL
 * and quotes are escaped and its end is unambiguous), line and paragraph separators and C1 controls
 * escaped too, and truncated so a 10,000-character name cannot flood a log.
 */
export function quoteUntrusted(value: string, max = MAX_QUOTED_LENGTH): string {
  const cut = value.length > max ? value.slice(0, max) : value;
  const quoted = JSON.stringify(cut).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return value.length > max ? `${quoted}… (${value.length - max} more characters)` : quoted;
}
