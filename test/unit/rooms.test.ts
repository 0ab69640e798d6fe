import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Rooms only look down: a lower room never imports a higher one, and the key ring room imports
 * nothing of the project but itself and `shared/async/` (it declares the interfaces it needs, as
 * ASP.NET Core's IXmlRepository lives beside XmlKeyManager; `shared/app/` builds them).
 * Type-only imports count: they are arrows too.
 */
const HIGH = ['app', 'cli', 'http', 'functions', 'devhost', 'bench'];
const RULES: Record<string, { forbidden: string[] } | { allowed: string[] }> = {
  keyring: { allowed: ['keyring', 'async'] },
  async: { allowed: ['async'] },
  azure: { forbidden: HIGH },
  config: { forbidden: HIGH },
  cache: { forbidden: HIGH },
  app: { forbidden: HIGH.filter((room) => room !== 'app') },
};

const root = path.resolve(__dirname, '../..');

/** `shared/keyring/x.ts` -> keyring, `functions/x.ts` -> functions, `bench/x.ts` -> bench. */
function roomOf(file: string): string | undefined {
  const [top, second] = path.relative(root, file).split(path.sep);
  return top === 'shared' ? second : top;
}

/** Every module specifier a file imports or re-exports, dynamic imports included. */
function specifiersOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** The forbidden arrows of one file, as `keyring/updateKeyRing.ts -> app (../app/openRings)`. */
function violations(file: string, source: string): string[] {
  const from = roomOf(file);
  const rule = from === undefined ? undefined : RULES[from];
  if (!rule) return [];
  const found: string[] = [];
  for (const specifier of specifiersOf(source)) {
    if (!specifier.startsWith('.')) continue; // packages and node: built-ins
    const to = roomOf(path.resolve(path.dirname(file), specifier));
    if (to === undefined || to === from) continue;
    const bad = 'allowed' in rule ? !rule.allowed.includes(to) : rule.forbidden.includes(to);
    if (bad) found.push(`${path.relative(root, file)} -> ${to} (${specifier})`);
  }
  return found;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('rooms', () => {
  it('no lower room imports a higher one, and the key ring room imports only itself and shared/async', () => {
    const files = tsFiles(path.join(root, 'shared'));
    expect(files.length).toBeGreaterThan(100);
    const found = files.flatMap((file) => violations(file, readFileSync(file, 'utf8')));
    expect(found).toEqual([]);
  });

  it('catches every form of import that points the wrong way', () => {
    const keyring = path.join(root, 'shared/keyring/policy/example.ts');
    const cache = path.join(root, 'shared/cache/example.ts');
    expect(violations(keyring, "import type { RingHandle } from '../../app/openRings';")).toEqual(['shared/keyring/policy/example.ts -> app (../../app/openRings)']);
    expect(violations(keyring, "import {\n  ConfigError,\n} from '../../config/ConfigError';")).toHaveLength(1);
    expect(violations(keyring, "export { defaultCredential } from '../../azure/credentials';")).toHaveLength(1);
    expect(violations(keyring, "const m = await import('../../cache/Journal');")).toHaveLength(1);
    expect(violations(cache, "import '../devhost/start';")).toHaveLength(1);
    expect(violations(cache, "import { CacheSubscriber } from './CacheSubscriber';\nimport { delay } from '../async/delay';\nimport { defaultCredential } from '../azure/credentials';")).toEqual([]);
  });
});
