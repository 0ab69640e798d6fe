/** The evaluator the infrastructure tests rely on: semantics it must get right, and strictness. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAKE, evaluateBicep } from './support/bicepEvaluator';
import { evaluateMain } from './support/checks';

const DIR = path.resolve('/virtual/infra');
const run = (main: string, params: Record<string, unknown> = {}, extra: Record<string, string> = {}) =>
  evaluateBicep(path.join(DIR, 'main.bicep'), params, {
    files: new Map([[path.join(DIR, 'main.bicep'), main], ...Object.entries(extra).map(([k, v]) => [path.join(DIR, k), v] as [string, string])]),
  });

describe('bicep evaluator', () => {
  it('binds member access and subscripts tighter than operators (works around the grammar)', async () => {
    const d = await run(`
var o = { b: 'deep', n: 2, flag: false, list: ['x', 'y'] }
output t1 string = true ? 'first' : o.b
output t2 string = false ? 'first' : o.list[1]
output t3 bool = !o.flag
output t4 bool = 2 == o.n
output t5 bool = o.n == 2 && o.list[0] == 'x'
output t6 int = -o.n
output t7 int = 1 + o.n * 3
output t8 int = false ? 1 : o.flag ? 2 : o.n - 1
output t9 bool = !o.flag && o.n > 1 || false
output t10 string = o.?missing ?? o.list[0]
`);
    expect(d.outputs).toEqual({ t1: 'first', t2: 'y', t3: true, t4: true, t5: true, t6: -2, t7: 7, t8: 1, t9: true, t10: 'x' });
  });

  it('evaluates loops, modules, parent chains and extension scopes into resource IDs', async () => {
    const d = await run(
      `
param names string[] = ['a', 'b']
module m 'mod.bicep' = [for (n, i) in names: { name: 'm-\${n}', params: { name: n, index: i } }]
output ids array = [for (n, i) in names: m[i].outputs.id]
`,
      {},
      {
        'mod.bicep': `
@description('Required. x')
param name string
@description('Required. x')
param index int
resource st 'Microsoft.Storage/storageAccounts@2025-01-01' = { name: 'st\${name}', location: 'x', identity: { type: 'SystemAssigned' } }
resource svc 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = { parent: st, name: 'default' }
resource c 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = { parent: svc, name: 'c\${index}' }
resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = { name: guid(c.id), scope: c, properties: { principalId: st.identity.principalId } }
output id string = c.id
`,
      },
    );
    const rg = `/subscriptions/${FAKE.subscriptionId}/resourceGroups/${FAKE.resourceGroup}`;
    expect(d.outputs.ids).toEqual([
      `${rg}/providers/Microsoft.Storage/storageAccounts/sta/blobServices/default/containers/c0`,
      `${rg}/providers/Microsoft.Storage/storageAccounts/stb/blobServices/default/containers/c1`,
    ]);
    const ra = d.resources.filter((r) => r.type === 'Microsoft.Authorization/roleAssignments');
    expect(ra[1]!.id).toMatch(new RegExp(`^${rg}/providers/Microsoft.Storage/storageAccounts/stb/blobServices/default/containers/c1/providers/Microsoft.Authorization/roleAssignments/[0-9a-f-]{36}$`));
    expect(ra.map((r) => r.module)).toEqual(['main/m[0]', 'main/m[1]']);
  });

  it('refuses what it does not understand instead of guessing', async () => {
    await expect(run(`output k string = listKeys('x', '2025-01-01').keys[0].value`)).rejects.toThrow(/unsupported function listKeys/);
    await expect(run(`param p string`, { p: 'x', q: 1 })).rejects.toThrow(/q is not declared/);
    await expect(run(`@allowed(['a'])\nparam p string = 'b'`)).rejects.toThrow(/not in @allowed/);
    await expect(run(`var x = 'a\\\${b}'\noutput o string = x`)).rejects.toThrow(/escaped/);
    await expect(run(`output o string = missing`)).rejects.toThrow(/unknown symbol missing/);
    await expect(run(`var x = [`)).rejects.toThrow(/syntax errors/);
  });

  it('enforces the parameter constraints of main.bicep', async () => {
    await expect(evaluateMain({ baseName: 'waytoolongname' })).rejects.toThrow(/baseName.*@maxLength/);
    await expect(evaluateMain({ functionNodeVersion: '18' })).rejects.toThrow(/functionNodeVersion.*@allowed/);
    await expect(evaluateMain({ webPlanSkuName: 'B1' })).rejects.toThrow(/webPlanSkuName.*@allowed/);
  });
});
