/** One ring on the run's Azurite, opened as the app opens it, with access to the Key Vault double. */
import { openRings, type RingHandle } from '../../shared/app/openRings';
import { parseConfig } from '../../shared/config/parseConfig';
import type { ProtectorConfig } from '../../shared/config/types';
import { keyVaultAccess, type KeyVaultDouble } from './keyVaultDouble';
import { azurite } from './storage';

export function testRing(kv: KeyVaultDouble, name: string, protector: ProtectorConfig, container: string, baseDir = '/'): RingHandle {
  const config = parseConfig({ rings: [{ name, storage: { connectionString: azurite().connectionString }, container, blob: 'keys.xml', protector }] }, 'test', baseDir);
  return openRings(config, keyVaultAccess(kv))[0]!;
}
