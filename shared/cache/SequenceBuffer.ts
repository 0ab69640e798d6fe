/**
 * Orders deliveries by sequence: holds out-of-order items, releases them strictly one after the
 * other from `lastApplied + 1`, and drops duplicates and anything already applied. Pure.
 */
export class SequenceBuffer<T> {
  private readonly pending = new Map<number, T>();

  constructor(private applied: number) {}

  get lastApplied(): number {
    return this.applied;
  }

  get size(): number {
    return this.pending.size;
  }

  /** False when the item is a duplicate or already applied. */
  offer(sequence: number, item: T): boolean {
    if (sequence <= this.applied || this.pending.has(sequence)) return false;
    this.pending.set(sequence, item);
    return true;
  }

  /** The next item in order, if it is here. Call `markApplied` once it has been applied. */
  peekNext(): { sequence: number; item: T } | undefined {
    const sequence = this.applied + 1;
    const item = this.pending.get(sequence);
    return item === undefined ? undefined : { sequence, item };
  }

  markApplied(sequence: number): void {
    if (sequence !== this.applied + 1) throw new Error(`sequence ${sequence} applied out of order (last applied ${this.applied})`);
    this.pending.delete(sequence);
    this.applied = sequence;
  }

  /** Moves the position forward (cold boot), dropping everything at or below it. */
  skipTo(sequence: number): void {
    if (sequence <= this.applied) return;
    for (const s of this.pending.keys()) if (s <= sequence) this.pending.delete(s);
    this.applied = sequence;
  }

  /** The sequences missing before the lowest held item, or undefined when nothing is held or nothing is missing. */
  gap(): { from: number; to: number } | undefined {
    if (this.pending.size === 0) return undefined;
    const lowest = Math.min(...this.pending.keys());
    return lowest > this.applied + 1 ? { from: this.applied + 1, to: lowest - 1 } : undefined;
  }

  get(sequence: number): T | undefined {
    return this.pending.get(sequence);
  }

  /** Drops held items above `sequence`; returns how many. */
  dropAbove(sequence: number): number {
    let dropped = 0;
    for (const s of this.pending.keys()) {
      if (s > sequence) {
        this.pending.delete(s);
        dropped++;
      }
    }
    return dropped;
  }

  highest(): number | undefined {
    return this.pending.size === 0 ? undefined : Math.max(...this.pending.keys());
  }
}
