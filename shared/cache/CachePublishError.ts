/** A publish the channel refuses; `status` is the HTTP status the API answers with. */
export class CachePublishError extends Error {
  constructor(
    readonly code: 'not_an_object' | 'unsupported_version' | 'invalid_envelope' | 'channel_mismatch' | 'unknown_channel' | 'envelope_too_large' | 'not_json',
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; '));
    this.name = 'CachePublishError';
  }
}
