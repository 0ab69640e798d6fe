/** A re-wrap that must not write: a secret ringkeeper cannot decrypt, or a target that would weaken protection. */
export class RewrapError extends Error {
  constructor(
    readonly code: 'rewrap_refused' | 'rewrap_verification_failed',
    message: string,
  ) {
    super(message);
    this.name = 'RewrapError';
  }
}
