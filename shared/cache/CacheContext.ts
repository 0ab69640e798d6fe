import type { BlobServiceClient, StoragePipelineOptions } from '@azure/storage-blob';
import type { QueueServiceClient, StoragePipelineOptions as QueuePipelineOptions } from '@azure/storage-queue';
import { resolveStorage } from '../azure/storageConnection';
import { channelNames, type CacheConfig } from './cacheConfig';
import { CACHE_PROTOCOL_VERSION, type InstructionNotice } from './CacheEnvelope';
import { GroupCommit } from './GroupCommit';
import { Journal } from './Journal';
import { encodeQueueMessage } from './queueMessageCodec';

/** Everything the cache channel's parts share: validated config, storage clients, the journal. */
export interface CacheContext {
  readonly config: CacheConfig;
  readonly channels: ReadonlySet<string>;
  readonly blobService: BlobServiceClient;
  readonly queueService: QueueServiceClient;
  readonly journal: Journal;
  /** This process's group commit (publisher and fan-out share it: one committer per channel). */
  readonly commits: GroupCommit;
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

/**
 * The SDK's default retry waits 4 s, 8 s, 16 s... and never times a try out: one dropped
 * keep-alive connection then stalls an instruction for tens of seconds. The channel is latency-
 * sensitive and every step is idempotent, so retry fast and give up on a hung try.
 */
export const CACHE_RETRY_OPTIONS = { maxTries: 5, retryDelayInMs: 200, maxRetryDelayInMs: 2_000, tryTimeoutInMs: 15_000 } as const;

export function createCacheContext(config: CacheConfig, options: CacheContextOptions = {}): CacheContext {
  const storage = resolveStorage(config.storage, options.where ?? 'cache.storage', options.env ?? process.env);
  const blobService = storage.blobService({ retryOptions: CACHE_RETRY_OPTIONS, ...options.blobOptions });
  const queueService = storage.queueService({ retryOptions: CACHE_RETRY_OPTIONS, ...options.queueOptions });
  const ensured = new Map<string, Promise<void>>();
  const journal = new Journal(blobService.getContainerClient(config.journalContainer));
  const ctx: CacheContext = {
    config,
    channels: channelNames(config),
    blobService,
    queueService,
    journal,
    commits: new GroupCommit(journal, {
      windowMs: config.idempotencyMinutes * 60_000,
      announce: async (channel, batch) => {
        const notice: InstructionNotice = { version: CACHE_PROTOCOL_VERSION, channel, first: batch.first, last: batch.last };
        await ctx.ensureQueue(config.instructionsQueue);
        await queueService.getQueueClient(config.instructionsQueue).sendMessage(encodeQueueMessage(notice));
      },
    }),
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
  return ctx;
}
