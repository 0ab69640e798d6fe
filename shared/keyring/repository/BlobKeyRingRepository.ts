import { isRestError, type BlockBlobClient, type ContainerClient } from '@azure/storage-blob';
import { KEY_RING_CONTENT_TYPE } from '../XmlConstants';

export interface StoredKeyRing {
  /** Undefined when the blob does not exist (an empty ring). */
  content?: Buffer;
  /** Undefined when the blob does not exist: the next write must create it. */
  etag?: string;
}

/** Another writer changed the blob since it was read (HTTP 409/412): re-read and re-plan. */
export class ConcurrencyConflict extends Error {
  constructor(readonly status: number) {
    super(`the key ring blob changed since it was read (HTTP ${status})`);
    this.name = 'ConcurrencyConflict';
  }
}

/** Storage failed or refused; `status` is the HTTP status when there was one. */
export class StorageError extends Error {
  readonly code: 'storage_forbidden' | 'storage_unavailable' | 'storage_failed';
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    detail: string,
  ) {
    super(`storage ${operation} failed${status ? ` (HTTP ${status})` : ''}: ${detail}`);
    this.name = 'StorageError';
    this.code = status === 401 || status === 403 ? 'storage_forbidden' : status === undefined || status === 429 || status >= 500 ? 'storage_unavailable' : 'storage_failed';
  }
}

/**
 * One key ring blob, as AzureBlobXmlRepository stores it: a read costs exactly one request, and
 * writes are conditional on the ETag that was read (or on the blob not existing).
 */
export class BlobKeyRingRepository {
  readonly blob: BlockBlobClient;

  constructor(
    private readonly container: ContainerClient,
    blobName: string,
  ) {
    this.blob = container.getBlockBlobClient(blobName);
  }

  /** Non-secret location for messages: the URL without any query string. */
  get location(): string {
    return this.blob.url.split('?')[0]!;
  }

  async read(): Promise<StoredKeyRing> {
    try {
      const response = await this.blob.download();
      const content = await readAll(response.readableStreamBody);
      return { content, etag: response.etag };
    } catch (err) {
      if (isRestError(err) && err.statusCode === 404) return {};
      throw storageError('read', err);
    }
  }

  /** Writes the whole ring; throws ConcurrencyConflict when the blob is no longer what was read. */
  async write(content: Buffer, readEtag: string | undefined): Promise<string> {
    const conditions = readEtag ? { ifMatch: readEtag } : { ifNoneMatch: '*' };
    const upload = () => this.blob.upload(content, content.length, { conditions, blobHTTPHeaders: { blobContentType: KEY_RING_CONTENT_TYPE } });
    try {
      return (await upload()).etag!;
    } catch (err) {
      if (isRestError(err) && err.statusCode === 404 && err.code === 'ContainerNotFound' && !readEtag) {
        await this.createContainer();
        try {
          return (await upload()).etag!;
        } catch (retryErr) {
          throw this.writeError(retryErr);
        }
      }
      throw this.writeError(err);
    }
  }

  private writeError(err: unknown): Error {
    if (isRestError(err) && (err.statusCode === 409 || err.statusCode === 412)) return new ConcurrencyConflict(err.statusCode);
    return storageError('write', err);
  }

  private async createContainer(): Promise<void> {
    try {
      await this.container.createIfNotExists();
    } catch (err) {
      throw storageError('create container', err);
    }
  }
}

function storageError(operation: string, err: unknown): Error {
  if (isRestError(err)) return new StorageError(operation, err.statusCode, err.code ?? err.message.split('\n')[0]!);
  if (err instanceof Error && (err as NodeJS.ErrnoException).code) return new StorageError(operation, undefined, (err as NodeJS.ErrnoException).code!);
  return err instanceof Error ? err : new Error(String(err));
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
