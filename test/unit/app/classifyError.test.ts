import { describe, expect, it } from 'vitest';
import { classifyError } from '../../../shared/app/classifyError';
import { UnknownRingError } from '../../../shared/app/selectRings';
import { KeyVaultError } from '../../../shared/keyring/protectors/keyVaultErrors';
import { ConfigError } from '../../../shared/config/ConfigError';
import { CanaryFailedError } from '../../../shared/keyring/CanaryFailedError';
import { KeyRingFormatError } from '../../../shared/keyring/KeyRingFormatError';
import { RewrapError } from '../../../shared/keyring/RewrapError';
import { PolicyError } from '../../../shared/keyring/policy/RotationPolicy';
import { StorageError } from '../../../shared/keyring/repository/BlobKeyRingRepository';
import { RingConflictError } from '../../../shared/keyring/updateKeyRing';

describe('classifyError: the stable codes and HTTP statuses of the API', () => {
  it.each([
    [new UnknownRingError('x', ['a']), 'ring_not_found', 404],
    [new PolicyError('unknown_key', 'm'), 'key_not_found', 404],
    [new PolicyError('unsatisfiable', 'm'), 'unsatisfiable', 409],
    [new RingConflictError('r', 5), 'conflict', 409],
    [new KeyRingFormatError('document', 'bad'), 'keyring_malformed', 500],
    [new ConfigError('RINGKEEPER_CONFIG_JSON', 'not set'), 'config_invalid', 500],
    [new StorageError('read', 503, 'ServerBusy'), 'storage_unavailable', 503],
    [new StorageError('read', undefined, 'ECONNREFUSED'), 'storage_unavailable', 503],
    [new StorageError('write', 403, 'AuthorizationPermissionMismatch'), 'storage_forbidden', 502],
    [new StorageError('write', 400, 'InvalidHeaderValue'), 'storage_failed', 502],
    [new KeyVaultError('keyvault_unavailable', 'm', 'https://v/keys/k'), 'keyvault_unavailable', 503],
    [new KeyVaultError('keyvault_forbidden', 'm', 'https://v/keys/k'), 'keyvault_forbidden', 502],
    [new CanaryFailedError('r', '00000000-0000-0000-0000-000000000001', 'unwrap gave another key'), 'canary_failed', 500],
    [new RewrapError('rewrap_refused', 'm'), 'rewrap_refused', 409],
    [new RewrapError('rewrap_verification_failed', 'm'), 'rewrap_verification_failed', 500],
  ])('%s -> %s %i', (err, code, status) => {
    expect(classifyError(err)).toMatchObject({ code, status, expected: true });
  });

  it('does not echo an unexpected error, which may carry more than an operator should see', () => {
    const c = classifyError(new Error('connection string AccountKey=abc'));
    expect(c).toMatchObject({ code: 'internal', status: 500, expected: false });
    expect(c.message).not.toContain('AccountKey');
  });
});
