/** Why a front-end rebuilds its caches instead of replaying the journal (Umbraco's cold boot rules). */
/** `journal-corrupt`: the next batch blob is not a valid batch and has no `last` metadata, so nothing says where it ends. */
export type ColdBootReason = 'too-far-behind' | 'journal-pruned' | 'journal-reset' | 'journal-corrupt';

export type CatchUpDecision =
  /** First start: nothing to replay, begin after the current head. */
  { action: 'start-at-head'; head: number } | { action: 'up-to-date' } | { action: 'replay'; from: number; to: number } | { action: 'cold-boot'; reason: ColdBootReason; skipTo: number };

export interface CatchUpInput {
  /** Undefined when the front-end has never applied anything (no state). */
  lastApplied: number | undefined;
  head: number;
  /** Whether the journal still holds `lastApplied + 1` (only asked when lastApplied < head). */
  nextExists: boolean;
  /** Umbraco's MaxProcessingInstructionCount, counted in journal entries. */
  threshold: number;
}

/** Pure: what a front-end does about the entries between its position and the head. */
export function decideCatchUp({ lastApplied, head, nextExists, threshold }: CatchUpInput): CatchUpDecision {
  if (lastApplied === undefined) return { action: 'start-at-head', head };
  // The journal is behind the front-end: it was wiped or replaced, so nothing it says can be replayed.
  if (head < lastApplied) return { action: 'cold-boot', reason: 'journal-reset', skipTo: head };
  if (head === lastApplied) return { action: 'up-to-date' };
  if (head - lastApplied > threshold) return { action: 'cold-boot', reason: 'too-far-behind', skipTo: head };
  if (!nextExists) return { action: 'cold-boot', reason: 'journal-pruned', skipTo: head };
  return { action: 'replay', from: lastApplied + 1, to: head };
}
