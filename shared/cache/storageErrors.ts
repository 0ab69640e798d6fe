/** Status and service error code of an Azure Storage SDK error (RestError), if it is one. */
export function storageStatus(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

export function storageErrorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; details?: { errorCode?: unknown } };
  const code = e?.details?.errorCode ?? e?.code;
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
