/** A key ring that cannot be read safely; nothing is written to it. `element` names where. */
export class KeyRingFormatError extends Error {
  readonly code = 'keyring_malformed';
  constructor(
    readonly element: string,
    readonly problem: string,
  ) {
    super(`${element}: ${problem}`);
    this.name = 'KeyRingFormatError';
  }
}
