import { ContainerClient, newPipeline, type RequestPolicyFactory, type StoragePipelineOptions } from '@azure/storage-blob';
import type { CryptographyClientOptions } from '@azure/keyvault-keys';
import type { TokenCredential } from '@azure/identity';
import { defaultCredential } from '../azure/credentials';
import { resolveStorage } from '../azure/storageConnection';
import type { RingConfig, RingkeeperConfig } from '../config/types';
import type { RingHandle } from '../keyring/RingHandle';
import type { KeyProtector } from '../keyring/protectors/KeyProtector';
import { createKeyProtector } from './createKeyProtector';
import { policySettings } from '../keyring/policy/policySettings';
import { BlobKeyRingRepository } from '../keyring/repository/BlobKeyRingRepository';

/** One configured ring, ready for the use cases; the key ring room declares what it holds. Opening makes no request. */
export type { RingHandle };

export interface OpenRingsOptions {
  env?: NodeJS.ProcessEnv;
  credential?: TokenCredential;
  storagePipeline?: StoragePipelineOptions;
  /** Extra SDK pipeline policies (tests and the bench count storage requests with one). */
  storagePolicies?: RequestPolicyFactory[];
  keyVaultClientOptions?: CryptographyClientOptions;
}

export function openRings(config: RingkeeperConfig, options: OpenRingsOptions = {}): RingHandle[] {
  return config.rings.map((ring, i) => openRing(ring, `rings[${i}]`, options));
}

export function openRing(ring: RingConfig, where: string, options: OpenRingsOptions): RingHandle {
  const { container, blobName, isEmulator } = containerFor(ring, where, options);
  let protector: KeyProtector | undefined;
  // Validate the protector choice now (e.g. "none" on a real account) without touching key files.
  if (ring.protector.type === 'none') protector = buildProtector();
  function buildProtector(): KeyProtector {
    return createKeyProtector(ring.protector, {
      storageIsEmulator: isEmulator,
      credential: options.credential ?? defaultCredential(),
      keyVaultClientOptions: options.keyVaultClientOptions,
      env: options.env,
      where: `${where}.protector`,
    });
  }
  return {
    name: ring.name,
    repository: new BlobKeyRingRepository(container, blobName),
    policy: policySettings(ring.policy),
    protectorType: ring.protector.type,
    protector: () => (protector ??= buildProtector()),
  };
}

function containerFor(ring: RingConfig, where: string, options: OpenRingsOptions): { container: ContainerClient; blobName: string; isEmulator: boolean } {
  if (ring.blobUri) {
    const url = new URL(ring.blobUri);
    const isEmulator = /^(127\.|localhost$|\[::1\]$)/.test(url.hostname);
    // Emulators use path-style URLs: the first segment is the account.
    const segments = url.pathname.split('/').slice(isEmulator ? 2 : 1);
    const prefix = isEmulator ? `/${url.pathname.split('/')[1]}` : '';
    const containerUrl = `${url.origin}${prefix}/${segments[0]}`;
    const blobName = decodeURIComponent(segments.slice(1).join('/'));
    const pipeline = newPipeline(options.credential ?? defaultCredential(), options.storagePipeline);
    pipeline.factories.push(...(options.storagePolicies ?? []));
    return { container: new ContainerClient(containerUrl, pipeline), blobName, isEmulator };
  }
  const storage = resolveStorage(ring.storage!, `${where}.storage`, options.env, () => options.credential ?? defaultCredential());
  return { container: storage.blobService(options.storagePipeline, options.storagePolicies).getContainerClient(ring.container!), blobName: ring.blob!, isEmulator: storage.isEmulator };
}
