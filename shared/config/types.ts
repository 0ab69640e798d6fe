/**
 * The one configuration document of ringkeeper, shared by the Functions app and the CLI.
 * Transport: a JSON file (`--config FILE` or `RINGKEEPER_CONFIG=path`) or the same JSON inline
 * in the app setting `RINGKEEPER_CONFIG_JSON` (what infra/ generates).
 */
import type { PolicyConfig } from '../keyring/policy/policySettings';

/** Where a storage account is and how to authenticate to it. Exactly one form. */
export type StorageReference =
  /** A connection string (Azurite, or where a user insists on account keys). */
  | { connectionString: string }
  /** Name of an app setting/environment variable, resolved like the Functions host does:
   *  `NAME` (a connection string, or `UseDevelopmentStorage=true`) or identity-based
   *  `NAME__blobServiceUri` / `NAME__queueServiceUri` / `NAME__accountName`. */
  | { connection: string }
  /** Identity-based (DefaultAzureCredential): service URIs without secrets. */
  | { blobServiceUri?: string; queueServiceUri?: string };

/** An X.509 certificate with an RSA key: a PFX or PEM file, or a Key Vault certificate. */
export type CertificateReference =
  /** PKCS#12; the password, if any, comes from the app setting/environment variable `passwordSetting`. */
  | { pfxFile: string; passwordSetting?: string }
  /** PEM holding the certificate and (to decrypt) its unencrypted private key. */
  | { pemFile: string }
  /** `https://{vault}/certificates/{name}[/{version}]`; versionless follows renewals. */
  | { keyVaultCertificateId: string };

/**
 * Certificates whose private keys may decrypt existing secrets (as UnprotectKeysWithAnyCertificate):
 * old certificates after a renewal, or a certificate-protected ring moving to another protector.
 */
interface Decryption {
  decryptionCertificates?: CertificateReference[];
}

export type ProtectorConfig =
  /** Azure Key Vault key; `keyId` may be versionless (`https://v.vault.azure.net/keys/name`). */
  | ({ type: 'keyvault'; keyId: string } & Decryption)
  /** Local RSA key in PEM (PKCS#8 or PKCS#1); generated on first use when `generate` is true. */
  | ({ type: 'rsa'; keyFile: string; generate?: boolean } & Decryption)
  /** X.509 certificate: the EncryptedXml format of ProtectKeysWithCertificate. */
  | ({ type: 'certificate' } & CertificateReference & Decryption)
  /** No encryption at rest: explicit opt-in. Refused for a non-emulator account unless allowUnencrypted. */
  | ({ type: 'none'; allowUnencrypted?: boolean } & Decryption);

/** A ring's `policy` section: declared by the key ring room, which turns it into PolicySettings. */
export type { PolicyConfig };

export interface RingConfig {
  name: string;
  /** Full blob URI (identity-based) ... */
  blobUri?: string;
  /** ... or a storage reference + container + blob. */
  storage?: StorageReference;
  container?: string;
  blob?: string;
  protector: ProtectorConfig;
  policy?: PolicyConfig;
}

export interface RingkeeperConfig {
  /** Default storage for rings and the cache channel when they do not name their own. */
  storage?: StorageReference;
  rings: RingConfig[];
  /** The cache instruction channel; validated by shared/cache/config. */
  cache?: unknown;
}
