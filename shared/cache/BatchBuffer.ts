/**
 * Orders deliveries of journal batches (runs `first..last` that tile the sequence space): holds
 * out-of-order batches, releases them strictly one after the other from `lastApplied + 1`, and
 * drops duplicates and anything already applied. Pure.
 */
export class BatchBuffer<T> {
  private readonly pending = new Map<number, { last: number; item: T }>();

  constructor(private applied: number) {}

  get lastApplied(): number {
    return this.applied;
  }

  get size(): number {
    return this.pending.size;
  }

  /** False when the batch is a duplicate or already applied. */
  offer(first: number, last: number, item: T): boolean {
    if (first <= this.applied || this.pending.has(first)) return false;
    this.pending.set(first, { last, item });
    return true;
  }

  /** The next batch in order, if it is here. Call `markApplied` once it has been applied. */
  peekNext(): { first: number; last: number; item: T } | undefined {
    const first = this.applied + 1;
    const held = this.pending.get(first);
    return held === undefined ? undefined : { first, last: held.last, item: held.item };
  }

  markApplied(first: number, last: number): void {
    if (first !== this.applied + 1) throw new Error(`batch ${first}..${last} applied out of order (last applied ${this.applied})`);
    this.pending.delete(first);
    this.applied = last;
  }

  /** Moves the position forward (cold boot), dropping every batch that starts at or below it. */
  skipTo(sequence: number): void {
    if (sequence <= this.applied) return;
    for (const first of this.pending.keys()) if (first <= sequence) this.pending.delete(first);
    this.applied = sequence;
  }

  /** The sequences missing before the lowest held batch, or undefined when nothing is held or nothing is missing. */
  gap(): { from: number; to: number } | undefined {
    if (this.pending.size === 0) return undefined;
    const lowest = Math.min(...this.pending.keys());
    return lowest > this.applied + 1 ? { from: this.applied + 1, to: lowest - 1 } : undefined;
  }

  get(first: number): { last: number; item: T } | undefined {
    return this.pending.get(first);
  }

  /** Drops held batches that end above `sequence`; returns how many. */
  dropAbove(sequence: number): number {
    let dropped = 0;
    for (const [first, held] of this.pending) {
      if (held.last > sequence) {
        this.pending.delete(first);
        dropped++;
      }
    }
    return dropped;
  }

  /** The highest sequence held. */
  highest(): number | undefined {
    let highest: number | undefined;
    for (const held of this.pending.values()) highest = Math.max(highest ?? 0, held.last);
    return highest;
  }
}
