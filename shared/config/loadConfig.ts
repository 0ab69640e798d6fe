import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './ConfigError';
import { parseConfig } from './parseConfig';
import type { RingkeeperConfig } from './types';

export const CONFIG_JSON_SETTING = 'RINGKEEPER_CONFIG_JSON';
export const CONFIG_FILE_SETTING = 'RINGKEEPER_CONFIG';

/** Reads and validates a configuration file; relative paths inside it resolve against its folder. */
export function readConfigFile(file: string, cwd = process.cwd()): RingkeeperConfig {
  const full = path.resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new ConfigError(file, `cannot read the configuration file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseConfig(parseJson(text, file), file, path.dirname(full));
}

/**
 * The Functions app's configuration: `RINGKEEPER_CONFIG_JSON` (inline, what infra/ sets) or
 * `RINGKEEPER_CONFIG` (a file path). Undefined when neither is set, so callers decide the fallback.
 */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): RingkeeperConfig | undefined {
  const inline = env[CONFIG_JSON_SETTING];
  if (inline !== undefined && inline.trim() !== '') {
    return parseConfig(parseJson(inline, CONFIG_JSON_SETTING), CONFIG_JSON_SETTING, cwd);
  }
  const file = env[CONFIG_FILE_SETTING];
  if (file !== undefined && file.trim() !== '') return readConfigFile(file, cwd);
  return undefined;
}

/** As configFromEnvironment, but a missing configuration is an error naming both settings. */
export function requireConfigFromEnvironment(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): RingkeeperConfig {
  const config = configFromEnvironment(env, cwd);
  if (!config) throw new ConfigError(CONFIG_JSON_SETTING, `not set (set ${CONFIG_JSON_SETTING} to the configuration JSON, or ${CONFIG_FILE_SETTING} to a file path)`);
  return config;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ConfigError(where, `is not valid JSON (${(err as Error).message})`);
  }
}
