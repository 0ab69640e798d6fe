import { KeyVaultError } from '../azure/keyVaultErrors';
import { ConfigError } from '../config/ConfigError';
import { KeyRingFormatError } from '../keyring/KeyRingFormatError';
import { PolicyError } from '../keyring/policy/RotationPolicy';
import { StorageError } from '../keyring/repository/BlobKeyRingRepository';
import { RingConflictError } from '../keyring/updateKeyRing';
import { KekMismatchError } from '../keyring/protectors/kekIdentity';
import { UnknownRingError } from './selectRings';

/** A failure as operators and HTTP clients see it: a stable code, an HTTP status, a safe message. */
export interface ClassifiedError {
  code: string;
  status: number;
  message: string;
  /** False for failures whose message may carry more than we want to show (unexpected errors). */
  expected: boolean;
}

export function classifyError(err: unknown): ClassifiedError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof UnknownRingError) return { code: 'ring_not_found', status: 404, message, expected: true };
  if (err instanceof PolicyError && err.code === 'invalid_reason') return { code: 'invalid_request', status: 400, message, expected: true };
  if (err instanceof KekMismatchError) return { code: err.code, status: 409, message, expected: true };
  if (err instanceof PolicyError) return { code: err.code === 'unknown_key' ? 'key_not_found' : 'unsatisfiable', status: err.code === 'unknown_key' ? 404 : 409, message, expected: true };
  if (err instanceof RingConflictError) return { code: 'conflict', status: 409, message, expected: true };
  if (err instanceof KeyRingFormatError) {
    const what = err.code === 'keyring_unsupported_encoding' ? 'the key ring cannot be managed by ringkeeper' : 'the key ring is malformed';
    return { code: err.code, status: 500, message: `${what}: ${message}`, expected: true };
  }
  if (err instanceof ConfigError) return { code: err.code, status: 500, message, expected: true };
  if (err instanceof StorageError) return { code: err.code, status: err.code === 'storage_unavailable' ? 503 : 502, message, expected: true };
  if (err instanceof KeyVaultError) return { code: err.code, status: err.retryable ? 503 : 502, message, expected: true };
  return { code: 'internal', status: 500, message: 'an unexpected error occurred; see the function logs', expected: false };
}
