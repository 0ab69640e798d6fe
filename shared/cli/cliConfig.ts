import { readConfigFile, CONFIG_FILE_SETTING } from '../config/loadConfig';
import { ensureLocalEnvironment } from '../config/localDefault';
import type { RingkeeperConfig } from '../config/types';
import type { CliIo } from './CliIo';

export interface LocalDefaultInfo {
  blobEndpoint: string;
  /** False when something already listened on the ports: possibly another checkout's Azurite. */
  startedAzurite: boolean;
}

export interface CliConfig {
  config: RingkeeperConfig;
  /** True when no configuration was given and the embedded local default is in use. */
  isLocalDefault: boolean;
  /** The local default's Azurite, when it is in use. */
  local?: LocalDefaultInfo;
  /** Releases what resolving started (Azurite for the local default). */
  close(): Promise<void>;
}

/** `--config FILE`, else RINGKEEPER_CONFIG, else the embedded local default (Azurite started on demand). */
export async function resolveCliConfig(configFlag: string | undefined, io: CliIo): Promise<CliConfig> {
  const file = configFlag ?? io.env[CONFIG_FILE_SETTING];
  if (file) {
    return { config: readConfigFile(file, io.cwd), isLocalDefault: false, close: async () => {} };
  }
  const local = await ensureLocalEnvironment(io.cwd, io.env);
  return {
    config: local.config,
    isLocalDefault: true,
    local: { blobEndpoint: local.endpoints.blobEndpoint, startedAzurite: local.azurite !== undefined },
    close: async () => {
      await local.azurite?.stop();
    },
  };
}
