import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { CertificateClient } from '@azure/keyvault-certificates';
import type { CryptographyClientOptions } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import type { TokenCredential } from '@azure/identity';
import { KeyVaultError, toKeyVaultError } from '../keyring/protectors/keyVaultErrors';
import { ConfigError } from '../config/ConfigError';
import type { CertificateReference } from '../config/types';
import { credentialFromPem, credentialFromPfx, x509Credential, type X509Credential } from '../keyring/protectors/X509Credential';

/** Where a certificate comes from: a file, or a Key Vault certificate (its versions are its renewals). */
export interface CertificateSource {
  /** The certificate to encrypt new secrets to (the newest Key Vault version, or the file's). */
  current(): Promise<X509Credential>;
  /** The private key of the certificate with this SHA-1 thumbprint, if this source holds it. */
  privateKeyFor(thumbprint: string): Promise<KeyObject | undefined>;
}

export interface CertificateSourceOptions {
  env?: NodeJS.ProcessEnv;
  credential: TokenCredential;
  /** The Key Vault client options of the ring (retry, tlsOptions, challenge verification); each client keeps its own service version. */
  keyVaultClientOptions?: CryptographyClientOptions;
}

export function certificateSource(ref: CertificateReference, where: string, options: CertificateSourceOptions): CertificateSource {
  if ('keyVaultCertificateId' in ref) return keyVaultCertificate(ref.keyVaultCertificateId, where, options);
  let loaded: X509Credential | undefined;
  // A certificate file that cannot be used is a configuration problem, named by its setting.
  const load = (): X509Credential => {
    if (loaded) return loaded;
    try {
      if ('pemFile' in ref) {
        loaded = credentialFromPem(readFileSync(ref.pemFile, 'utf8'), ref.pemFile);
      } else {
        const password = ref.passwordSetting === undefined ? undefined : (options.env ?? process.env)[ref.passwordSetting];
        if (ref.passwordSetting !== undefined && password === undefined) throw new ConfigError(`${where}.passwordSetting`, `the setting ${ref.passwordSetting} is not set`);
        loaded = credentialFromPfx(readFileSync(ref.pfxFile), password, ref.pfxFile);
      }
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(where, code ? `cannot read ${'pemFile' in ref ? ref.pemFile : ref.pfxFile} (${code})` : (err as Error).message);
    }
    return loaded;
  };
  return {
    current: async () => load(),
    privateKeyFor: async (thumbprint) => (load().thumbprint === thumbprint ? load().privateKey : undefined),
  };
}

/**
 * A Key Vault certificate `https://{vault}/certificates/{name}[/{version}]`. The public certificate
 * comes from the certificates API; a private key only from the secrets API (the certificate's
 * secret holds the PFX or PEM), read only when a secret must be decrypted.
 */
function keyVaultCertificate(id: string, where: string, options: CertificateSourceOptions): CertificateSource {
  const url = new URL(id);
  const [, , name, version] = url.pathname.split('/');
  const vaultUrl = url.origin;
  const credential = () => options.credential;
  let certificates: CertificateClient | undefined;
  let secrets: SecretClient | undefined;
  const { serviceVersion: _ignored, ...clientOptions } = options.keyVaultClientOptions ?? {};
  const certClient = () => (certificates ??= new CertificateClient(vaultUrl, credential(), { ...clientOptions }));
  const secretClient = () => (secrets ??= new SecretClient(vaultUrl, credential(), { ...clientOptions }));
  const keys = new Map<string, KeyObject | undefined>();

  async function versionWith(thumbprint: string): Promise<string | undefined> {
    if (version) return version;
    try {
      for await (const p of certClient().listPropertiesOfCertificateVersions(name!)) {
        if (p.x509Thumbprint && Buffer.from(p.x509Thumbprint).toString('hex').toUpperCase() === thumbprint) return p.version;
      }
    } catch (err) {
      throw toKeyVaultError(err, 'unwrap', id);
    }
    return undefined;
  }

  return {
    async current() {
      let cer: Uint8Array | undefined;
      try {
        cer = (version ? await certClient().getCertificateVersion(name!, version) : await certClient().getCertificate(name!)).cer;
      } catch (err) {
        throw toKeyVaultError(err, 'wrap', id);
      }
      if (!cer) throw new KeyVaultError('keyvault_not_found', `Key Vault certificate ${id} has no issued certificate (still pending?)`, id, 'wrap');
      return x509Credential(Buffer.from(cer), undefined, `${where} (${id})`);
    },
    async privateKeyFor(thumbprint) {
      if (keys.has(thumbprint)) return keys.get(thumbprint);
      const v = await versionWith(thumbprint);
      let key: KeyObject | undefined;
      if (v) {
        let secret;
        try {
          secret = await secretClient().getSecret(name!, { version: v });
        } catch (err) {
          throw toKeyVaultError(err, 'unwrap', `${vaultUrl}/secrets/${name}/${v}`);
        }
        const value = secret.value ?? '';
        const cred =
          secret.properties.contentType === 'application/x-pem-file'
            ? credentialFromPem(value, `${where} (secret ${name}/${v})`)
            : credentialFromPfx(Buffer.from(value, 'base64'), undefined, `${where} (secret ${name}/${v})`);
        if (cred.thumbprint === thumbprint) key = cred.privateKey;
      }
      keys.set(thumbprint, key);
      return key;
    },
  };
}
