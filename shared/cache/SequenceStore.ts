import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where a front-end keeps the last sequence it applied (Umbraco's "lastsynced"). Pluggable. */
export interface SequenceStore {
  /** Undefined when nothing was ever saved (a new front-end). */
  load(): Promise<number | undefined>;
  save(sequence: number): Promise<void>;
}

/** A small JSON file, replaced atomically (write + rename) so a crash never leaves half a number. */
export class FileSequenceStore implements SequenceStore {
  constructor(readonly file: string) {}

  async load(): Promise<number | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const value = Number((JSON.parse(text) as { lastApplied?: unknown }).lastApplied);
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${this.file} does not hold a valid lastApplied sequence`);
    return value;
  }

  async save(sequence: number): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ lastApplied: sequence, savedAt: new Date().toISOString() }));
    await rename(tmp, this.file);
  }
}

export class MemorySequenceStore implements SequenceStore {
  constructor(private value?: number) {}

  async load(): Promise<number | undefined> {
    return this.value;
  }

  async save(sequence: number): Promise<void> {
    this.value = sequence;
  }
}
