import { AbortError } from './AbortError';

export interface DelayOptions {
  abortSignal?: AbortSignal;
}

/**
 * Resolves after `ms`; rejects with an AbortError as soon as the signal aborts (or at once if it
 * already has). Either way the timer and the abort listener are gone when it settles.
 */
export function delay(ms: number, options: DelayOptions = {}): Promise<void> {
  const { abortSignal } = options;
  return new Promise((resolve, reject) => {
    if (abortSignal?.aborted) {
      reject(new AbortError(undefined, { cause: abortSignal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError(undefined, { cause: abortSignal?.reason }));
    };
    const timer = setTimeout(() => {
      abortSignal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    abortSignal?.addEventListener('abort', onAbort, { once: true });
  });
}
