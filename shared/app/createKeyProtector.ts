import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { KeyClient, type CryptographyClientOptions } from '@azure/keyvault-keys';
import type { TokenCredential } from '@azure/identity';
import { toKeyVaultError } from '../keyring/protectors/keyVaultErrors';
import { ConfigError } from '../config/ConfigError';
import type { ProtectorConfig } from '../config/types';
import { encryptedSecretXml } from '../keyring/KeyXmlWriter';
import { attribute, elementChildren, type XmlElement } from '../keyring/xml/XmlNode';
import { decryptXmlElement, encryptXmlElement } from '../keyring/protectors/AzureKeyVaultXmlEncryptor';
import { certificateSource, type CertificateSource } from './CertificateSource';
import { CERTIFICATE_DECRYPTOR_TYPE, decryptWithCertificate, describeEncryptedData, encryptWithCertificate } from '../keyring/protectors/CertificateXmlEncryptor';
import { certificateKek } from '../keyring/protectors/kekVersionOf';
import { isVersionedKeyId, KeyVaultKeyWrapper } from '../keyring/protectors/KeyVaultKeyWrapper';
import type { KeyProtector } from '../keyring/protectors/KeyProtector';
import type { KeyWrapper } from '../keyring/protectors/KeyWrapper';
import { isRsaKid, RsaKeyWrapper } from '../keyring/protectors/RsaKeyWrapper';
import { kekOf } from '../keyring/protectors/kekIdentity';

export interface ProtectorOptions {
  /** True for Azurite/emulator accounts, where `none` needs no written opt-in. */
  storageIsEmulator: boolean;
  /** For Key Vault keys (shared/app passes the configured one, else the process-wide DefaultAzureCredential). */
  credential: TokenCredential;
  keyVaultClientOptions?: CryptographyClientOptions;
  /** Where certificate passwords (passwordSetting) are read; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  where?: string;
}

/** Builds the configured protector. Nothing here touches the network or reads files: that happens on first use. */
export function createKeyProtector(config: ProtectorConfig, options: ProtectorOptions): KeyProtector {
  const where = options.where ?? 'protector';
  const sourceOptions = { env: options.env, credential: options.credential, keyVaultClientOptions: options.keyVaultClientOptions };
  const decryption = (config.decryptionCertificates ?? []).map((c, i) => certificateSource(c, `${where}.decryptionCertificates[${i}]`, sourceOptions));
  switch (config.type) {
    case 'none': {
      if (!options.storageIsEmulator && !config.allowUnencrypted) {
        throw new ConfigError(`${where}.allowUnencrypted`, 'the "none" protector stores master keys unencrypted; it is refused for a real storage account unless allowUnencrypted is true');
      }
      const unwrap = (kid: string) => Promise.reject<Buffer>(new Error(`no key encryption key is configured to unwrap ${kid}`));
      return {
        type: 'none',
        kek: '(none)',
        protect: async (masterKeyXml) => masterKeyXml,
        unwrap,
        unprotect: (secret) => unprotectWith(secret, unwrap, decryption),
        currentKekVersion: async () => null,
      };
    }
    case 'rsa': {
      let rsa: RsaKeyWrapper | undefined;
      const local = () => (rsa ??= RsaKeyWrapper.fromFile(config.keyFile, config.generate));
      const unwrap = (kid: string, wrapped: Buffer) => (isRsaKid(kid) ? local() : keyVaultFor(kid, options)).unwrap(kid, wrapped);
      // No key file yet means no current KEK yet (it is generated on the first wrap); status must not create it.
      return wrapperProtector(
        'rsa',
        () => local().kid,
        () => local(),
        unwrap,
        decryption,
        async () => (rsa || existsSync(config.keyFile) ? local().kid : null),
      );
    }
    case 'keyvault': {
      const kv = new KeyVaultKeyWrapper({ keyId: config.keyId, credential: options.credential, clientOptions: options.keyVaultClientOptions });
      const unwrap = async (kid: string, wrapped: Buffer) => {
        refuseRsaKid(kid);
        return kv.unwrap(kid, wrapped);
      };
      return wrapperProtector(
        'keyvault',
        () => kekOf(config.keyId),
        () => kv,
        unwrap,
        decryption,
        () => currentKeyVaultKeyId(config.keyId, options),
      );
    }
    case 'certificate': {
      const source = certificateSource(config, where, sourceOptions);
      // Keys of an earlier Key Vault protector stay readable through their own versioned kid.
      const unwrap = (kid: string, wrapped: Buffer) => keyVaultFor(kid, options).unwrap(kid, wrapped);
      return {
        type: 'certificate',
        kek: '(certificate)',
        async protect(masterKeyXml) {
          return encryptedSecretXml(CERTIFICATE_DECRYPTOR_TYPE, encryptWithCertificate(masterKeyXml, await source.current()));
        },
        unwrap,
        unprotect: (secret) => unprotectWith(secret, unwrap, [source, ...decryption]),
        currentKekVersion: async () => certificateKek((await source.current()).thumbprint),
      };
    }
  }
}

function wrapperProtector(
  type: 'rsa' | 'keyvault',
  kek: () => string,
  wrapper: () => KeyWrapper,
  unwrap: (kid: string, wrapped: Buffer) => Promise<Buffer>,
  decryption: CertificateSource[],
  currentKekVersion: () => Promise<string | null>,
): KeyProtector {
  return {
    type,
    get kek() {
      return kek();
    },
    async protect(masterKeyXml) {
      const { decryptorType, encryptedKeyXml } = await encryptXmlElement(masterKeyXml, wrapper());
      return encryptedSecretXml(decryptorType, encryptedKeyXml);
    },
    unwrap,
    unprotect: (secret) => unprotectWith(secret, unwrap, decryption),
    currentKekVersion,
  };
}

/** Dispatches on decryptorType, as XmlEncryptionExtensions.DecryptElement does. */
async function unprotectWith(secret: XmlElement, unwrap: (kid: string, wrapped: Buffer) => Promise<Buffer>, certificates: CertificateSource[]): Promise<string> {
  const typeName = (attribute(secret, 'decryptorType') ?? '').split(',')[0]!.trim();
  const content = elementChildren(secret);
  if (content.length !== 1) throw new Error(`<encryptedSecret> holds ${content.length} elements, expected 1`);
  const encrypted = content[0]!;
  if (typeName.endsWith('.AzureKeyVaultXmlDecryptor')) return decryptXmlElement(encrypted, unwrap);
  if (typeName.endsWith('.XmlEncryption.EncryptedXmlDecryptor')) {
    const keys = new Map<string, KeyObject>();
    for (const thumbprint of describeEncryptedData(encrypted).thumbprints) {
      for (const source of certificates) {
        const key = await source.privateKeyFor(thumbprint);
        if (key) {
          keys.set(thumbprint, key);
          break;
        }
      }
    }
    return decryptWithCertificate(encrypted, (t) => keys.get(t));
  }
  throw new Error(`ringkeeper cannot decrypt secrets of ${typeName || 'an unnamed decryptor'}`);
}

function refuseRsaKid(kid: string): void {
  if (isRsaKid(kid)) throw new Error(`the secret was wrapped by a local RSA key (${kid}); configure that key to unwrap it`);
}

function keyVaultFor(kid: string, options: ProtectorOptions): KeyWrapper {
  refuseRsaKid(kid);
  return new KeyVaultKeyWrapper({ keyId: kid, credential: options.credential, clientOptions: options.keyVaultClientOptions });
}

/** The versioned id a wrap would record now: the configured one, or the key's current version (one GET). */
async function currentKeyVaultKeyId(keyId: string, options: ProtectorOptions): Promise<string> {
  if (isVersionedKeyId(keyId)) return keyId;
  const url = new URL(keyId);
  const name = url.pathname.split('/')[2]!;
  try {
    const key = await new KeyClient(url.origin, options.credential, { ...options.keyVaultClientOptions }).getKey(name);
    return key.id!;
  } catch (err) {
    throw toKeyVaultError(err, 'wrap', keyId);
  }
}
