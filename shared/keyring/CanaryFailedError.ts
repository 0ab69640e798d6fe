/**
 * A new key failed its canary: its master key did not survive wrap + unwrap with the ring's
 * protector, or could not protect and unprotect a payload. Nothing was written; the ring is critical
 * until a run whose canary passes (a protector that cannot give back what it wraps would brick every
 * key it touches).
 */
export class CanaryFailedError extends Error {
  readonly code = 'canary_failed';
  readonly health = 'critical';
  constructor(
    readonly ring: string,
    readonly keyId: string,
    readonly reason: string,
  ) {
    super(`ring ${ring} is critical (canary_failed): new key {${keyId}} was not written: ${reason}`);
    this.name = 'CanaryFailedError';
  }
}
