import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortError } from '../../../shared/async/AbortError';
import { delay } from '../../../shared/async/delay';

describe('delay', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves after the time and leaves no abort listener behind', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    let settled = false;
    const waiting = delay(1_000, { abortSignal: controller.signal }).then(() => (settled = true));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(settled).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects with an AbortError as soon as the signal aborts, clearing its timer and listener', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const waiting = delay(60_000, { abortSignal: controller.signal });
    expect(vi.getTimerCount()).toBe(1);
    const reason = new Error('host shutdown');
    controller.abort(reason);
    const error: unknown = await waiting.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).name).toBe('AbortError');
    expect((error as AbortError).cause).toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects at once without starting a timer when the signal has already aborted', async () => {
    vi.useFakeTimers();
    const waiting = delay(60_000, { abortSignal: AbortSignal.abort() });
    expect(vi.getTimerCount()).toBe(0);
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
  });
});
