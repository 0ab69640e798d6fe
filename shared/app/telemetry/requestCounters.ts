import type { CryptographyClientOptions } from '@azure/keyvault-keys';
import type { RequestPolicyFactory } from '@azure/storage-blob';
import type { OpenRingsOptions } from '../openRings';
import type { RequestCounts } from './TelemetryRecord';

type KeyVaultPolicy = NonNullable<CryptographyClientOptions['additionalPolicies']>[number]['policy'];

export interface RequestCounters {
  /** Options for openRings: its storage and Key Vault clients count what they send. */
  readonly openRingsOptions: Pick<OpenRingsOptions, 'storagePolicies' | 'keyVaultClientOptions'>;
  snapshot(): RequestCounts;
  /** Requests since an earlier snapshot (operations on one set of handles run one after another). */
  since(before: RequestCounts): RequestCounts;
}

/** Counts storage and Key Vault requests at the transport end of the SDK pipelines (each retry is a request). */
export function createRequestCounters(): RequestCounters {
  const counts: RequestCounts = { storageRequests: 0, keyVaultRequests: 0 };
  const storage: RequestPolicyFactory = {
    create: (next) => ({
      sendRequest(request) {
        counts.storageRequests++;
        return next.sendRequest(request);
      },
    }),
  };
  const keyVault: KeyVaultPolicy = {
    name: 'ringkeeperRequestCounter',
    sendRequest(request, next) {
      counts.keyVaultRequests++;
      return next(request);
    },
  };
  return {
    openRingsOptions: { storagePolicies: [storage], keyVaultClientOptions: { additionalPolicies: [{ policy: keyVault, position: 'perRetry' }] } },
    snapshot: () => ({ ...counts }),
    since: (before) => ({ storageRequests: counts.storageRequests - before.storageRequests, keyVaultRequests: counts.keyVaultRequests - before.keyVaultRequests }),
  };
}
