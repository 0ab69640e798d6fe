import type { RingHandle } from './openRings';

export class UnknownRingError extends Error {
  constructor(name: string, known: string[]) {
    super(`unknown ring "${name}" (configured: ${known.join(', ') || 'none'})`);
    this.name = 'UnknownRingError';
  }
}

/** All rings, or the one named (case-insensitive, as ring names are unique regardless of case). */
export function selectRings(handles: RingHandle[], name?: string): RingHandle[] {
  if (name === undefined) return handles;
  const found = handles.find((h) => h.name.toLowerCase() === name.toLowerCase());
  if (!found) throw new UnknownRingError(name, handles.map((h) => h.name));
  return [found];
}
