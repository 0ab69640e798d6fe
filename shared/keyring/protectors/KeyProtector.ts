import type { CryptographyClientOptions } from '@azure/keyvault-keys';
import type { TokenCredential } from '@azure/identity';
import { ConfigError } from '../../config/ConfigError';
import type { ProtectorConfig } from '../../config/types';
import { encryptedSecretXml } from '../KeyXmlWriter';
import { encryptXmlElement } from './AzureKeyVaultXmlEncryptor';
import { KeyVaultKeyWrapper } from './KeyVaultKeyWrapper';
import type { KeyWrapper } from './KeyWrapper';
import { isRsaKid, RsaKeyWrapper } from './RsaKeyWrapper';
import { kekOf } from './kekIdentity';

/** Key encryption at rest for one ring (≈ IXmlEncryptor + the decryptors it implies). */
export interface KeyProtector {
  readonly type: ProtectorConfig['type'];
  /** The descriptor's secret: `<encryptedSecret>` around the encrypted master key, or the master key itself for `none`. */
  protect(masterKeyXml: string): Promise<string>;
  /** Unwraps a content key recorded under `kid` (for verify): Key Vault kids via Key Vault, RSA kids locally. */
  unwrap(kid: string, wrapped: Buffer): Promise<Buffer>;
  /** The key encryption key new keys are wrapped with, as kekOf names it; '(none)' for `none`. No network. */
  readonly kek: string;
}

export interface ProtectorOptions {
  /** True for Azurite/emulator accounts, where `none` needs no written opt-in. */
  storageIsEmulator: boolean;
  credential?: TokenCredential;
  keyVaultClientOptions?: CryptographyClientOptions;
  where?: string;
}

/** Builds the configured protector. Nothing here touches the network: wrappers connect on first use. */
export function createKeyProtector(config: ProtectorConfig, options: ProtectorOptions): KeyProtector {
  const where = options.where ?? 'protector';
  switch (config.type) {
    case 'none':
      if (!options.storageIsEmulator && !config.allowUnencrypted) {
        throw new ConfigError(`${where}.allowUnencrypted`, 'the "none" protector stores master keys unencrypted; it is refused for a real storage account unless allowUnencrypted is true');
      }
      return {
        type: 'none',
        kek: '(none)',
        protect: async (masterKeyXml) => masterKeyXml,
        unwrap: (kid) => Promise.reject(new Error(`no key encryption key is configured to unwrap ${kid}`)),
      };
    case 'rsa': {
      const rsa = RsaKeyWrapper.fromFile(config.keyFile, config.generate);
      return wrapperProtector('rsa', rsa.kid, rsa, (kid) => (isRsaKid(kid) ? rsa : keyVaultFor(kid, options)));
    }
    case 'keyvault': {
      const kv = new KeyVaultKeyWrapper({ keyId: config.keyId, credential: options.credential, clientOptions: options.keyVaultClientOptions });
      return wrapperProtector('keyvault', kekOf(config.keyId), kv, (kid) => {
        if (isRsaKid(kid)) throw new Error(`the secret was wrapped by a local RSA key (${kid}); configure that key to unwrap it`);
        return kv;
      });
    }
  }
}

function wrapperProtector(type: 'rsa' | 'keyvault', kek: string, wrapper: KeyWrapper, unwrapperFor: (kid: string) => KeyWrapper): KeyProtector {
  return {
    type,
    kek,
    async protect(masterKeyXml) {
      const { decryptorType, encryptedKeyXml } = await encryptXmlElement(masterKeyXml, wrapper);
      return encryptedSecretXml(decryptorType, encryptedKeyXml);
    },
    unwrap: (kid, wrapped) => unwrapperFor(kid).unwrap(kid, wrapped),
  };
}

function keyVaultFor(kid: string, options: ProtectorOptions): KeyWrapper {
  return new KeyVaultKeyWrapper({ keyId: kid, credential: options.credential, clientOptions: options.keyVaultClientOptions });
}
