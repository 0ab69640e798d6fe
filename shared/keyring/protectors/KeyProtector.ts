import type { XmlElement } from '../xml/XmlNode';

/** The protector kinds a ring's configuration can name (shared/app builds each). */
export type ProtectorType = 'none' | 'rsa' | 'keyvault' | 'certificate';

/** Key encryption at rest for one ring (≈ IXmlEncryptor + the decryptors it implies). */
export interface KeyProtector {
  readonly type: ProtectorType;
  /** The descriptor's secret: `<encryptedSecret>` around the encrypted master key, or the master key itself for `none`. */
  protect(masterKeyXml: string): Promise<string>;
  /** Unwraps a content key recorded under `kid` (for verify): Key Vault kids via Key Vault, RSA kids locally. */
  unwrap(kid: string, wrapped: Buffer): Promise<Buffer>;
  /** Decrypts an `<encryptedSecret>` of any format ringkeeper reads, to the master key element's XML. */
  unprotect(encryptedSecret: XmlElement): Promise<string>;
  /**
   * The key-encryption key new secrets are protected with, in the form kekVersionOf() reports for a key
   * (versioned kid, or certificate thumbprint); null for `none`. May ask Key Vault for the current version.
   */
  currentKekVersion(): Promise<string | null>;
  /**
   * The key encryption key new keys are wrapped with, as kekOf names it (no version); '(none)' for
   * `none`, '(certificate)' for `certificate` (as ringKek names certificate-protected keys). No network.
   */
  readonly kek: string;
}
