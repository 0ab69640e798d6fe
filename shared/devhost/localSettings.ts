import { readFileSync } from 'node:fs';
import path from 'node:path';
import { settingText } from './settingText';

/**
 * Copies local.settings.json `Values` into `env` without overriding what is already set, as Core
 * Tools does. Returns the names it set. A missing file is fine; an encrypted one is refused.
 */
export function loadLocalSettings(appRoot: string, env: NodeJS.ProcessEnv): string[] {
  let text: string;
  try {
    text = readFileSync(path.join(appRoot, 'local.settings.json'), 'utf8');
  } catch {
    return [];
  }
  let doc: { IsEncrypted?: boolean; Values?: Record<string, unknown> };
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, '')) as typeof doc;
  } catch (err) {
    throw new Error(`local.settings.json is not valid JSON (${(err as Error).message})`);
  }
  if (doc.IsEncrypted) throw new Error('local.settings.json is encrypted (IsEncrypted: true); the dev host reads plain values only');
  const set: string[] = [];
  for (const [name, value] of Object.entries(doc.Values ?? {})) {
    if (env[name] === undefined && value !== null && value !== undefined) {
      env[name] = settingText(value);
      set.push(name);
    }
  }
  return set;
}
