import type { TestProject } from 'vitest/node';
import { startAzurite, type AzuriteEndpoints } from '../../shared/azure/azurite';

declare module 'vitest' {
  export interface ProvidedContext {
    azurite: AzuriteEndpoints;
  }
}

/** One Azurite (blob + queue, in memory, free ports) for the whole run. */
export default async function setup(project: TestProject) {
  const azurite = await startAzurite();
  project.provide('azurite', {
    blobEndpoint: azurite.blobEndpoint,
    queueEndpoint: azurite.queueEndpoint,
    connectionString: azurite.connectionString,
  });
  return async () => {
    await azurite.stop();
  };
}
