/** A configuration problem; `setting` names where it is (a JSON path or an app setting name). */
export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`${setting}: ${problem}`);
    this.name = 'ConfigError';
  }
}
