import type { KeyRing } from './KeyRing';
import type { Problem } from './keyRingStatus';
import { kekVersionOf } from './protectors/kekVersionOf';

/**
 * Keys whose master key is wrapped by another key-encryption key than the one the protector uses
 * now (an older Key Vault key version, a renewed certificate's predecessor, another protector).
 * Until `rewrap` re-encrypts them, that old version must stay enabled.
 */
export function staleKekProblem(ring: KeyRing, currentKekVersion: string | null | undefined): Problem | undefined {
  if (!currentKekVersion) return undefined;
  const stale = ring.keys.filter((k) => {
    const kek = kekVersionOf(k);
    return kek !== undefined && kek !== currentKekVersion;
  });
  if (stale.length === 0) return undefined;
  const keks = [...new Set(stale.map((k) => kekVersionOf(k)!))];
  return {
    code: 'stale_kek',
    severity: 'warning',
    message:
      `${stale.length} key${stale.length === 1 ? ' is' : 's are'} wrapped by ${keks.join(', ')}, not by the protector's current ${currentKekVersion}; ` +
      'run `ringkeeper rewrap` before disabling or deleting the old key version or certificate',
  };
}
