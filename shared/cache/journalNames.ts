/** Blob layout of a channel inside the journal container: everything under `{channel}/`. */

export function journalEntryPrefix(channel: string): string {
  return `${channel}/seq/`;
}

/** The batch starting at `first`; zero-padded so that listing order is sequence order. */
export function batchName(channel: string, first: number): string {
  return `${journalEntryPrefix(channel)}${String(first).padStart(20, '0')}.json`;
}

export function firstOfBatchName(name: string): number | undefined {
  const m = /\/seq\/(\d{20})\.json$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function headHintName(channel: string): string {
  return `${channel}/head.json`;
}

export function claimsPrefix(channel: string): string {
  return `${channel}/claims/`;
}

export function claimName(channel: string, id: string): string {
  return `${claimsPrefix(channel)}${id.toLowerCase()}.json`;
}
