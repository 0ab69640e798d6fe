import type { BlobServiceClient, StoragePipelineOptions } from '@azure/storage-blob';
import type { QueueServiceClient, StoragePipelineOptions as QueuePipelineOptions } from '@azure/storage-queue';
import { resolveStorage } from '../azure/storageConnection';
import { channelNames, type CacheConfig } from './cacheConfig';
import { Journal } from './Journal';

/** Everything the cache channel's parts share: validated config, storage clients, the journal. */
export interface CacheContext {
  readonly config: CacheConfig;
  readonly channels: ReadonlySet<string>;
  readonly blobService: BlobServiceClient;
  readonly queueService: QueueServiceClient;
  readonly journal: Journal;
  /** Non-secret description of the account, for logs. */
  readonly storageDescription: string;
  /** createIfNotExists once per queue and process. */
  ensureQueue(name: string): Promise<void>;
}

export interface CacheContextOptions {
  env?: NodeJS.ProcessEnv;
  /** Pipeline options, e.g. to count requests in tests and the bench. */
  blobOptions?: StoragePipelineOptions;
  queueOptions?: QueuePipelineOptions;
  /** JSON path of the cache section, for error messages. */
  where?: string;
}

export function createCacheContext(config: CacheConfig, options: CacheContextOptions = {}): CacheContext {
  const storage = resolveStorage(config.storage, options.where ?? 'cache.storage', options.env ?? process.env);
  const blobService = storage.blobService(options.blobOptions);
  const queueService = storage.queueService(options.queueOptions);
  const ensured = new Map<string, Promise<void>>();
  return {
    config,
    channels: channelNames(config),
    blobService,
    queueService,
    journal: new Journal(blobService.getContainerClient(config.journalContainer)),
    storageDescription: storage.description,
    ensureQueue(name) {
      let p = ensured.get(name);
      if (!p) {
        p = queueService
          .getQueueClient(name)
          .createIfNotExists()
          .then(
            () => undefined,
            (err) => {
              ensured.delete(name);
              throw err;
            },
          );
        ensured.set(name, p);
      }
      return p;
    },
  };
}
