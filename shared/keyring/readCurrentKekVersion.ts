import type { RingHandle } from './RingHandle';
import type { KeyRing } from './KeyRing';
import { kekVersionOf } from './protectors/kekVersionOf';

/** The protector's current key-encryption key version (for stale_kek), or why it could not be told. */
export interface CurrentKekVersion {
  current: string | null;
  error?: string;
}

/** Asked only when some key is wrapped at all, so status of an empty or unencrypted ring touches no key. */
export async function readCurrentKekVersion(handle: RingHandle, ring: KeyRing): Promise<CurrentKekVersion> {
  if (!ring.keys.some((k) => kekVersionOf(k) !== undefined)) return { current: null };
  try {
    return { current: await handle.protector().currentKekVersion() };
  } catch (err) {
    return { current: null, error: err instanceof Error ? err.message : String(err) };
  }
}
