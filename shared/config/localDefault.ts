import path from 'node:path';
import { DEV_BLOB_PORT, DEV_QUEUE_PORT, devEndpoints, isListening, startAzurite, type AzuriteEndpoints, type AzuriteProcess } from '../azure/azurite';
import { ConfigError } from './ConfigError';
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
export async function ensureLocalEnvironment(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): Promise<LocalEnvironment> {
  const stateDir = path.join(cwd, LOCAL_STATE_DIR);
  const blobPort = port(env, LOCAL_BLOB_PORT_SETTING, DEV_BLOB_PORT);
  const queuePort = port(env, LOCAL_QUEUE_PORT_SETTING, DEV_QUEUE_PORT);
  const [blobUp, queueUp] = await Promise.all([isListening(blobPort), isListening(queuePort)]);
  let azurite: AzuriteProcess | undefined;
  if (!blobUp && !queueUp) {
    azurite = await startAzurite({ blobPort, queuePort, location: path.join(stateDir, 'azurite') });
  } else if (!blobUp || !queueUp) {
    throw new Error(
      `Only one of the development storage ports listens (blob ${blobPort}: ${blobUp ? 'yes' : 'no'}, queue ${queuePort}: ${queueUp ? 'yes' : 'no'}); ` + 'stop that process or start a full Azurite.',
    );
  }
  const endpoints = devEndpoints(blobPort, queuePort);
  return { endpoints, azurite, config: localDefaultConfig(stateDir, endpoints) };
}

/** Other ports for the local default's Azurite (several local setups side by side, tests). */
export const LOCAL_BLOB_PORT_SETTING = 'RINGKEEPER_LOCAL_BLOB_PORT';
export const LOCAL_QUEUE_PORT_SETTING = 'RINGKEEPER_LOCAL_QUEUE_PORT';

function port(env: NodeJS.ProcessEnv, setting: string, fallback: number): number {
  const text = env[setting];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0 || value > 65535) throw new ConfigError(setting, `"${text}" is not a port number`);
  return value;
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
