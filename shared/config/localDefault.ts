import path from 'node:path';
import { DEV_BLOB_PORT, DEV_QUEUE_PORT, devEndpoints, isListening, startAzurite, type AzuriteEndpoints, type AzuriteProcess } from '../azure/azurite';
import type { RingkeeperConfig } from './types';

/** Where the embedded local default keeps its state, relative to the working folder. */
export const LOCAL_STATE_DIR = '.ringkeeper';
export const LOCAL_RING_NAME = 'local';

export interface LocalEnvironment {
  endpoints: AzuriteEndpoints;
  /** Set when this process started Azurite; stop it when done. */
  azurite?: AzuriteProcess;
  config: RingkeeperConfig;
}

/**
 * The embedded local default: ring `local` in Azurite on the development ports, protected by a local
 * RSA key generated at ./.ringkeeper/kek.pem. Starts Azurite (data under ./.ringkeeper/azurite) when
 * nothing listens on the development ports.
 */
export async function ensureLocalEnvironment(cwd = process.cwd()): Promise<LocalEnvironment> {
  const stateDir = path.join(cwd, LOCAL_STATE_DIR);
  const [blobUp, queueUp] = await Promise.all([isListening(DEV_BLOB_PORT), isListening(DEV_QUEUE_PORT)]);
  let azurite: AzuriteProcess | undefined;
  if (!blobUp && !queueUp) {
    azurite = await startAzurite({ blobPort: DEV_BLOB_PORT, queuePort: DEV_QUEUE_PORT, location: path.join(stateDir, 'azurite') });
  } else if (!blobUp || !queueUp) {
    throw new Error(
      `Only one of the development storage ports listens (blob ${DEV_BLOB_PORT}: ${blobUp ? 'yes' : 'no'}, queue ${DEV_QUEUE_PORT}: ${queueUp ? 'yes' : 'no'}); ` +
        'stop that process or start a full Azurite.',
    );
  }
  const endpoints = devEndpoints();
  return { endpoints, azurite, config: localDefaultConfig(stateDir, endpoints) };
}

export function localDefaultConfig(stateDir: string, endpoints: AzuriteEndpoints): RingkeeperConfig {
  return {
    storage: { connectionString: endpoints.connectionString },
    rings: [
      {
        name: LOCAL_RING_NAME,
        storage: { connectionString: endpoints.connectionString },
        container: 'ringkeeper-local',
        blob: 'keys.xml',
        protector: { type: 'rsa', keyFile: path.join(stateDir, 'kek.pem'), generate: true },
      },
    ],
    cache: { channels: [{ name: 'production' }, { name: 'staging' }], instructionsQueue: 'cache-instructions' },
  };
}
