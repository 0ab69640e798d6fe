// The SDKs share one RestError (core-rest-pipeline); @azure/storage-blob re-exports its guard.
import { isRestError } from '@azure/storage-blob';

/**
 * Stable error codes for Key Vault key operations.
 * - `keyvault_unavailable`: network failure, throttling or 5xx after the SDK's retries (retryable).
 * - `keyvault_forbidden`: 401/403 from Key Vault, or a permission needed to record a versioned kid is missing.
 * - `keyvault_not_found`: the key or key version does not exist (404).
 * - `keyvault_unauthenticated`: the credential could not get a token.
 * - `keyvault_rejected`: Key Vault or the SDK refused the request (400, key disabled/expired, bad ciphertext).
 * - `keyvault_invalid_key_id`: the key id is not a Key Vault key URI.
 */
export type KeyVaultErrorCode = 'keyvault_unavailable' | 'keyvault_forbidden' | 'keyvault_not_found' | 'keyvault_unauthenticated' | 'keyvault_rejected' | 'keyvault_invalid_key_id';

export type KeyVaultOperation = 'wrap' | 'unwrap';

/**
 * A Key Vault failure with a stable `code`. The message names the key id and the HTTP/service
 * codes only; it never carries key material, tokens or wrapped bytes, and the SDK error is not
 * attached as `cause` because its request object holds the wrapped key.
 */
export class KeyVaultError extends Error {
  override readonly name = 'KeyVaultError';
  readonly retryable: boolean;

  constructor(
    readonly code: KeyVaultErrorCode,
    message: string,
    readonly keyId: string,
    readonly operation?: KeyVaultOperation,
    /** HTTP status from Key Vault, when there was a response. */
    readonly status?: number,
    /** Key Vault's own error code (e.g. `Forbidden`, `KeyNotFound`, `Throttled`) or a network error code. */
    readonly serviceCode?: string,
  ) {
    super(message);
    this.retryable = code === 'keyvault_unavailable';
  }
}

const CREDENTIAL_ERROR_NAMES = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError', 'AuthenticationRequiredError']);

// Long base64/base64url/hex runs could be key material or a token echoed by a service; drop them.
const OPAQUE_RUN = /[A-Za-z0-9+/_=-]{32,}/g;

/** A service or SDK message made safe to show: opaque runs removed, one line, bounded length. */
export function redactDetail(text: string): string {
  const oneLine = text.replace(OPAQUE_RUN, '[redacted]').replace(/\s+/g, ' ').trim();
  return oneLine.length > 300 ? `${oneLine.slice(0, 297)}...` : oneLine;
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
}

function codeForStatus(status: number): KeyVaultErrorCode {
  if (status === 401 || status === 403) return 'keyvault_forbidden';
  if (status === 404) return 'keyvault_not_found';
  if (status === 408 || status === 429 || status >= 500) return 'keyvault_unavailable';
  return 'keyvault_rejected';
}

/** Maps anything the SDK or the credential threw to a KeyVaultError. */
export function toKeyVaultError(err: unknown, operation: KeyVaultOperation, keyId: string): KeyVaultError {
  if (err instanceof KeyVaultError) return err;
  const e: ErrorLike = typeof err === 'object' && err !== null ? err : {};
  const name = typeof e.name === 'string' ? e.name : '';
  const rawMessage = typeof e.message === 'string' ? e.message : String(err);
  const serviceCode = typeof e.code === 'string' && e.code !== '' ? e.code : undefined;
  const what = `Key Vault ${operation} with key ${keyId}`;

  if (CREDENTIAL_ERROR_NAMES.has(name)) {
    return new KeyVaultError('keyvault_unauthenticated', `${what} failed: the credential could not get a token (${name}: ${redactDetail(rawMessage)})`, keyId, operation);
  }
  if (isRestError(err)) {
    const status = err.statusCode;
    if (status === undefined) {
      // No response: DNS, connection refused, TLS trust, timeout.
      return new KeyVaultError('keyvault_unavailable', `${what} failed: no response from Key Vault${serviceCode ? ` (${serviceCode})` : ''}`, keyId, operation, undefined, serviceCode);
    }
    return new KeyVaultError(codeForStatus(status), `${what} failed: HTTP ${status}${serviceCode ? ` ${serviceCode}` : ''}: ${redactDetail(rawMessage)}`, keyId, operation, status, serviceCode);
  }
  // The SDK checks nbf/exp/key_ops locally before calling the service ("Key … expired at …").
  return new KeyVaultError('keyvault_rejected', `${what} failed: ${redactDetail(rawMessage)}`, keyId, operation);
}
