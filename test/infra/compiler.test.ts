/**
 * The real Bicep compiler and linter judge every template: zero errors and zero warnings, and the
 * facts that do not depend on deployment-time values are read from the compiled ARM JSON.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BICEP, INSTALL_SCRIPT, MISSING_BICEP, armResources, armTemplates, bicepVersion, compileMain, lintAll, type Compiled } from './support/bicepCli';
import { API_VERSIONS, DOCUMENTED_ROLES, INFRA } from './support/checks';

function templates(dir = INFRA): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? templates(path.join(dir, e.name)) : e.name.endsWith('.bicep') ? [path.join(dir, e.name)] : [],
  );
}

const PINNED = /^version="\$\{BICEP_VERSION:-([0-9.]+)\}"$/m.exec(readFileSync(INSTALL_SCRIPT, 'utf8'))?.[1];

describe('infra: the Bicep CLI is installed', () => {
  it('install-bicep.sh pins the version (a new release cannot change what CI compiles with)', () => {
    expect(PINNED).toBe('0.49.2');
  });

  it.runIf(process.env.CI === 'true')('under CI the pinned CLI is present (missing = failure, never a skip)', () => {
    expect(BICEP, MISSING_BICEP).toBeTruthy();
    expect(bicepVersion()).toBe(PINNED);
  });
});

describe.skipIf(!BICEP)(`infra: bicep build and lint${BICEP ? '' : ` (skipped: ${MISSING_BICEP})`}`, () => {
  // One build and one lint run for the file, under the hook timeout (the CLI is slow on a busy machine).
  let main: Compiled;
  let lintResult: { status: number | null; diagnostics: string[] };
  beforeAll(async () => {
    [main, lintResult] = await Promise.all([compileMain(), lintAll()]);
  });

  it(`bicep lint prints no error and no warning for any template (${templates().map((f) => path.relative(INFRA, f)).join(', ')})`, () => {
    expect(templates().length).toBeGreaterThanOrEqual(8);
    expect(lintResult.diagnostics).toEqual([]);
    expect(lintResult.status).toBe(0);
  });

  it('bicep build main.bicep prints no error and no warning', () => {
    const c = main;
    expect(c.diagnostics).toEqual([]);
    expect(c.arm?.$schema).toMatch(/deploymentTemplate\.json#$/);
  });

  it('every resource uses the newest GA API version the pinned CLI knows (use-recent-api-versions is an error)', () => {
    const rules = JSON.parse(readFileSync(path.join(INFRA, 'bicepconfig.json'), 'utf8')).analyzers.core.rules;
    expect(rules['use-recent-api-versions'].level).toBe('error');
    expect(rules['what-if-short-circuiting'].level).toBe('error');
    const used = armResources(main.arm).map(({ resource: r }) => `${r.type}@${r.apiVersion}`);
    expect([...new Set(used)].sort()).toEqual(Object.entries(API_VERSIONS).map(([t, v]) => `${t}@${v}`).sort());
  });

  it('assigns only documented built-in roles, through subscriptionResourceId', () => {
    const arm = main.arm;
    const defs = armResources(arm)
      .filter(({ resource: r }) => r.type === 'Microsoft.Authorization/roleAssignments')
      .map(({ resource: r }) => String(r.properties.roleDefinitionId));
    expect(defs.length).toBeGreaterThan(5);
    for (const d of defs) expect(d).toMatch(/^\[subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions', /);
    const text = JSON.stringify(arm);
    const guids = new Set(text.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? []);
    const documented = new Set<string>(Object.values(DOCUMENTED_ROLES));
    expect([...guids].filter((g) => !documented.has(g))).toEqual([]);
    for (const g of documented) expect(text).toContain(g);
  });

  it('describes every parameter AVM-style (Required. without a default, Optional. with one) and every output', () => {
    const bad: string[] = [];
    for (const t of armTemplates(main.arm)) {
      for (const [name, p] of Object.entries<any>(t.template.parameters ?? {})) {
        const text = p.metadata?.description;
        const ok = typeof text === 'string' && ('defaultValue' in p ? /^Optional\. \S/.test(text) : /^(Required|Conditional)\. \S/.test(text));
        if (!ok) bad.push(`${t.path} param ${name}`);
      }
      for (const [name, o] of Object.entries<any>(t.template.outputs ?? {})) {
        if (typeof o.metadata?.description !== 'string' || !o.metadata.description.trim()) bad.push(`${t.path} output ${name}`);
      }
      if (typeof t.template.metadata?.description !== 'string' && t.path !== 'main') bad.push(`${t.path} has no metadata description`);
    }
    expect(bad).toEqual([]);
  });

  it('guards the parameters that could break a deployment (compiled constraints)', () => {
    const { parameters, variables } = main.arm;
    expect(parameters.keyVaultCreateMode.allowedValues).toEqual(['default', 'recover']);
    expect(parameters.keyVaultCreateMode.defaultValue).toBe('default');
    expect(parameters.location.metadata.description).toMatch(/Flex Consumption.*az functionapp list-flexconsumption-locations/);
    // The slot list is checked in the template itself and stops the deployment with fail().
    expect(variables.ringNames).toMatch(/^\[if\(empty\(variables\('slotProblems'\)\), .*fail\(/);
  });
});
