import type { RingHandle } from '../app/openRings';
import type { KeyEntry, KeyProtection } from './KeyRing';
import { KeyRingDocument } from './KeyRingDocument';
import { canReadMasterKey, readMasterKey } from './readMasterKey';

export interface KeyVerification {
  id: string;
  protection: KeyProtection;
  status: 'ok' | 'failed' | 'skipped';
  detail?: string;
}

export interface RingVerification {
  ring: string;
  etag: string | null;
  ok: boolean;
  keys: KeyVerification[];
}

/**
 * Unwraps every key (Key Vault or locally) and checks its master key; reports without revealing it.
 * `only` limits the check to some keys (health checks the keys apps use, not the whole history).
 */
export async function verifyKeyRing(handle: RingHandle, only?: ReadonlySet<string>): Promise<RingVerification> {
  const stored = await handle.repository.read();
  const document = KeyRingDocument.parse(stored.content);
  const keys: KeyVerification[] = [];
  for (const key of document.ring.keys) if (!only || only.has(key.id)) keys.push(await verifyKey(handle, key));
  return { ring: handle.name, etag: stored.etag ?? null, ok: keys.every((k) => k.status !== 'failed'), keys };
}

async function verifyKey(handle: RingHandle, key: KeyEntry): Promise<KeyVerification> {
  const base = { id: key.id, protection: key.protection };
  if (!canReadMasterKey(key)) return { ...base, status: 'skipped', detail: `ringkeeper cannot unwrap ${key.protection}-protected keys` };
  try {
    (await readMasterKey(key, (kid, wrapped) => handle.protector().unwrap(kid, wrapped))).fill(0);
    return { ...base, status: 'ok' };
  } catch (err) {
    return { ...base, status: 'failed', detail: (err as Error).message };
  }
}
