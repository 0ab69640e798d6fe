import type { RingHandle } from './openRings';
import { classifyError, type ClassifiedError } from './classifyError';
import { formatDotnetDate } from '../keyring/dotnetDate';
import { MAX_SERVER_CLOCK_SKEW } from '../keyring/policy/DefaultKeyResolver';
import { planRepair, planRevocation, planRotation, PolicyError, type RevokeRequest, type RotateRequest } from '../keyring/policy/RotationPolicy';
import { updateKeyRing, type RingUpdateResult, type UpdateOptions } from '../keyring/updateKeyRing';

export type RingOutcome = { ok: true; result: RingUpdateResult } | { ok: false; ring: string; error: ClassifiedError; cause: unknown };

export function rotateRing(handle: RingHandle, request: RotateRequest = {}, options?: UpdateOptions): Promise<RingUpdateResult> {
  return updateKeyRing(handle, (ring, now) => planRotation(ring, now, handle.policy, request), options);
}

export function revokeInRing(handle: RingHandle, request: RevokeRequest, options?: UpdateOptions): Promise<RingUpdateResult> {
  return updateKeyRing(
    handle,
    (ring, now) => {
      // Dated later, it would revoke every key written until then, including each replacement.
      if ('all' in request && !options?.dryRun && now > Date.now() + MAX_SERVER_CLOCK_SKEW) {
        throw new PolicyError(
          'unsatisfiable',
          `refusing to write a revocation of all keys dated ${formatDotnetDate(now)}, after the real clock (${formatDotnetDate(Date.now())}): it would revoke every key written until then`,
        );
      }
      return planRevocation(ring, now, handle.policy, request);
    },
    options,
  );
}

/** Brings back a usable default key whatever the ring's dates say; a BOM-only blob is replaced (it holds no key). */
export function repairRing(handle: RingHandle, options?: UpdateOptions): Promise<RingUpdateResult> {
  return updateKeyRing(handle, (ring, now) => planRepair(ring, now, handle.policy), { ...options, bomOnlyAsEmpty: true });
}

/**
 * Rotates every ring, one after another; one ring's failure does not stop the others. `around`
 * wraps each ring's rotation (the timer records telemetry per ring with it).
 */
export async function rotateRings(
  handles: RingHandle[],
  request: RotateRequest = {},
  options?: UpdateOptions,
  around: (handle: RingHandle, rotate: () => Promise<RingUpdateResult>) => Promise<RingUpdateResult> = (_handle, rotate) => rotate(),
): Promise<RingOutcome[]> {
  const outcomes: RingOutcome[] = [];
  for (const handle of handles) {
    try {
      outcomes.push({ ok: true, result: await around(handle, () => rotateRing(handle, request, options)) });
    } catch (err) {
      outcomes.push({ ok: false, ring: handle.name, error: classifyError(err), cause: err });
    }
  }
  return outcomes;
}
