import { isRestError } from '@azure/storage-blob';

/** HTTP status of an Azure Storage SDK error (RestError), if it is one and a response came back. */
export function storageStatus(err: unknown): number | undefined {
  return isRestError(err) ? err.statusCode : undefined;
}

/** Service error code of an Azure Storage SDK error (x-ms-error-code), else the SDK's own code. */
export function storageErrorCode(err: unknown): string | undefined {
  if (!isRestError(err)) return undefined;
  const details = err.details as { errorCode?: unknown } | undefined;
  const code = details?.errorCode ?? err.code;
  return typeof code === 'string' ? code : undefined;
}

export function isNotFound(err: unknown): boolean {
  return storageStatus(err) === 404;
}

/** A conditional write lost: the blob exists (409) or changed (412). */
export function isConditionFailed(err: unknown): boolean {
  const status = storageStatus(err);
  return status === 409 || status === 412;
}

/** Message for logs: status and code only, never request URLs (they may carry SAS tokens). */
export function describeStorageError(err: unknown): string {
  const status = storageStatus(err);
  if (status === undefined) return err instanceof Error ? err.message : String(err);
  return `storage ${status} ${storageErrorCode(err) ?? ''}`.trim();
}
