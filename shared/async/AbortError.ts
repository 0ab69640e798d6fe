/** What an aborted wait or operation rejects with (as `@azure/abort-controller`); the signal's reason is the cause. */
export class AbortError extends Error {
  constructor(message = 'The operation was aborted.', options?: ErrorOptions) {
    super(message, options);
    this.name = 'AbortError';
  }

  /** Throws an AbortError when the signal has been aborted. */
  static throwIfAborted(abortSignal: AbortSignal | undefined): void {
    if (abortSignal?.aborted) throw new AbortError(undefined, { cause: abortSignal.reason });
  }
}
