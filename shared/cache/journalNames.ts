/** Blob layout of a channel's journal inside the journal container. */

export function journalEntryPrefix(channel: string): string {
  return `${channel}/seq/`;
}

/** Zero-padded so that listing order is sequence order. */
export function journalEntryName(channel: string, sequence: number): string {
  return `${journalEntryPrefix(channel)}${String(sequence).padStart(20, '0')}.json`;
}

export function sequenceOfEntryName(name: string): number | undefined {
  const m = /\/seq\/(\d{20})\.json$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function idIndexName(channel: string, id: string): string {
  return `${channel}/ids/${id.toLowerCase()}.json`;
}

export function headHintName(channel: string): string {
  return `${channel}/head.json`;
}

export const CLAIMS_PREFIX = 'claims/';
