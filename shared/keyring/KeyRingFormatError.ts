/** A key ring that cannot be read safely; nothing is written to it. `element` names where. */
export class KeyRingFormatError extends Error {
  constructor(
    readonly element: string,
    readonly problem: string,
    /** keyring_unsupported_encoding: ASP.NET Core reads the ring, ringkeeper will not rewrite it. */
    readonly code: 'keyring_malformed' | 'keyring_unsupported_encoding' = 'keyring_malformed',
  ) {
    super(`${element}: ${problem}`);
    this.name = 'KeyRingFormatError';
  }
}
