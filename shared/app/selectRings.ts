import type { RingHandle } from './openRings';
import { quoteUntrusted } from './quoteUntrusted';

export class UnknownRingError extends Error {
  constructor(name: string, known: string[]) {
    super(`unknown ring ${quoteUntrusted(name)} (configured: ${known.join(', ') || 'none'}; names are case-sensitive)`);
    this.name = 'UnknownRingError';
  }
}

/** All rings, or the one named exactly as configured (one spelling per ring in URLs, logs and scripts). */
export function selectRings(handles: RingHandle[], name?: string): RingHandle[] {
  if (name === undefined) return handles;
  const found = handles.find((h) => h.name === name);
  if (!found)
    throw new UnknownRingError(
      name,
      handles.map((h) => h.name),
    );
  return [found];
}
