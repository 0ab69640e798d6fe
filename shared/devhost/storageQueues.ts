import type { QueueClient } from '@azure/storage-queue';
import { resolveStorage } from '../azure/storageConnection';

export interface QueueTarget {
  client: QueueClient;
  /** For logs: the account name only, never a key or connection string. */
  account: string;
}

/**
 * The queue a binding names, through its `connection` app setting (default AzureWebJobsStorage),
 * resolved like the host: the setting itself, then `AzureWebJobs<name>`; a connection string,
 * `UseDevelopmentStorage=true`, or identity-based `<name>__queueServiceUri`/`__accountName`.
 */
export function queueFor(connection: string | undefined, queueName: string, env: NodeJS.ProcessEnv): QueueTarget {
  const setting = connectionSettingName(connection, env);
  const storage = resolveStorage({ connection: setting }, 'queue binding', env);
  const client = storage.queueService().getQueueClient(queueName);
  return { client, account: client.accountName };
}

export function connectionSettingName(connection: string | undefined, env: NodeJS.ProcessEnv): string {
  const name = connection && connection.trim() !== '' ? connection : 'AzureWebJobsStorage';
  const present = (n: string) => env[n] !== undefined || env[`${n}__queueServiceUri`] !== undefined || env[`${n}__accountName`] !== undefined || env[`${n}__serviceUri`] !== undefined;
  if (!present(name) && present(`AzureWebJobs${name}`)) return `AzureWebJobs${name}`;
  return name;
}

/** Queue names: 3-63 characters, lower-case letters, digits and single dashes (as the host validates). */
export function assertQueueName(name: string, where: string): void {
  if (!/^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/.test(name)) {
    throw new Error(`${where}: "${name}" is not a valid queue name (3-63 lower-case letters, digits and single dashes)`);
  }
}
