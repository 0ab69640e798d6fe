/** Wraps/unwraps the 16-byte AES content key of the AzureKeyVaultXmlEncryptor format. */
export interface KeyWrapper {
  /** RSA-OAEP wrap; returns the versioned key id to record as <kid>. */
  wrap(contentKey: Buffer): Promise<{ kid: string; wrapped: Buffer }>;
  /** Unwrap with the key named by kid (a versioned Key Vault key URI). */
  unwrap(kid: string, wrapped: Buffer): Promise<Buffer>;
}
