/**
 * Conventions: AVM-style parameter and output descriptions, linter rules raised to error, no
 * hard-coded cloud URLs or registry modules, no secrets in outputs, and a README/deploy script
 * that only use outputs the template declares.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationResult } from './support/bicepEvaluator';
import { INFRA, STICKY, evaluateMain } from './support/checks';

const bicepFiles = readdirSync(INFRA, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.bicep'));

describe('infra conventions', () => {
  let d: EvaluationResult;
  beforeAll(async () => {
    d = await evaluateMain({ slots: ['staging', 'qa'] });
  });

  it('evaluates every template file', () => {
    const seen = new Set(d.files.map((f) => path.relative(INFRA, f)));
    expect(bicepFiles.filter((f) => !seen.has(f))).toEqual([]);
  });

  it('puts no secrets in outputs', () => {
    const names = Object.keys(d.outputs).filter((k) => /secret|password|connectionstring|accesskey|sas$/i.test(k));
    expect(names).toEqual([]);
    const text = JSON.stringify(d.outputs);
    expect(text).not.toMatch(/AccountKey=|InstrumentationKey=|ConnectionString\)|sig=|@runtime\(/);
  });

  it('raises the linter rules that matter to error', () => {
    const config = JSON.parse(readFileSync(path.join(INFRA, 'bicepconfig.json'), 'utf8'));
    const rules = config.analyzers.core.rules as Record<string, { level: string }>;
    expect(config.analyzers.core.enabled).toBe(true);
    const mustBeErrors = [
      'no-hardcoded-env-urls',
      'no-unused-params',
      'no-unused-vars',
      'no-unused-existing-resources',
      'outputs-should-not-contain-secrets',
      'secure-secrets-in-params',
      'secure-parameter-default',
      'use-secure-value-for-secure-inputs',
      'use-parent-property',
      'use-resource-symbol-reference',
      'use-stable-resource-identifiers',
      'no-hardcoded-location',
      'no-loc-expr-outside-params',
      'explicit-values-for-loc-params',
      'no-deployments-resources',
      'no-unnecessary-dependson',
    ];
    expect(mustBeErrors.filter((r) => rules[r]?.level !== 'error')).toEqual([]);
  });

  it.each(bicepFiles)('%s hard-codes no cloud endpoints and uses no registry modules', (f) => {
    const text = readFileSync(path.join(INFRA, f), 'utf8');
    expect(text).not.toMatch(/core\.windows\.net|vault\.azure\.net|azurewebsites\.net|management\.azure\.com|login\.microsoftonline\.com/);
    expect(text).not.toMatch(/'(br|ts)[:/]/);
    expect(text).toMatch(/^metadata description = '/m);
  });

  it('deploy.sh reads only outputs main.bicep declares', () => {
    const script = readFileSync(path.join(INFRA, 'deploy.sh'), 'utf8');
    const used = [...script.matchAll(/(?<![-\w])output ([A-Za-z]+)\b/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThanOrEqual(4);
    expect(used.filter((u) => !(u in d.outputs))).toEqual([]);
  });

  it('README documents every output, every sticky setting and the ASP.NET Core calls', () => {
    const readme = readFileSync(path.join(INFRA, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| Output | Use |'));
    expect(Object.keys(d.outputs).filter((o) => !table.includes(`\`${o}\``))).toEqual([]);
    for (const name of [...Object.values(STICKY), ...d.outputs.stickySettingNames]) expect(readme).toContain(`\`${name}\``);
    for (const api of ['PersistKeysToAzureBlobStorage', 'ProtectKeysWithAzureKeyVault', 'DisableAutomaticKeyGeneration', 'SetApplicationName']) {
      expect(readme).toContain(`.${api}(`);
    }
    // The C# reads the configuration keys that the sticky app settings become.
    for (const name of Object.values(STICKY)) {
      const parts = name.split('__');
      const [section, key] = [parts.slice(0, -1).join(':'), parts.at(-1)!];
      expect(readme).toMatch(new RegExp(`"${parts.join(':')}"|GetSection\\("${section}"\\)[\\s\\S]*\\["${key}"\\]`));
    }
  });
});
