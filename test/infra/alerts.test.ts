/**
 * The alert rules as the compiler builds them: in the compiled template, wired to the action group,
 * scoped to the Application Insights component, and their KQL accepted by Kusto's analyzer with the
 * measure and dimension columns the rules name, reading the records shared/app/telemetry writes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { TELEMETRY_PREFIX } from '../../shared/app/telemetry/TelemetryRecord';
import { BICEP, MISSING_BICEP, armTemplates, compileMain } from './support/bicepCli';
import { analyzeKql } from './support/kql';

/** The alerts module's template inside the compiled main.bicep. */
function alertsTemplate(arm: any): any {
  const t = armTemplates(arm).find((x) => x.path === 'main/alerts');
  if (!t) throw new Error('main.bicep does not deploy modules/alerts.bicep');
  return t.template;
}

/** Evaluates the one ARM expression shape the rules use for text: `[format('…', variables('v'), …)]` or a literal. */
function armText(value: unknown, variables: Record<string, unknown>): string {
  const text = String(value);
  if (!text.startsWith('[')) return text;
  const m = /^\[format\('((?:[^']|'')*)'((?:, variables\('\w+'\))*)\)\]$/.exec(text);
  if (!m) throw new Error(`unexpected expression ${text}`);
  const args = [...m[2]!.matchAll(/variables\('(\w+)'\)/g)].map((a) => String(variables[a[1]!]));
  return m[1]!.replace(/''/g, "'").replace(/\{(\d+)\}/g, (_, i) => args[Number(i)]!);
}

describe.skipIf(!BICEP)(`infra: alert rules in the compiled template${BICEP ? '' : ` (skipped: ${MISSING_BICEP})`}`, () => {
  // The CLI runs as a child process (support/bicepCli.ts); one build for the file, under the hook timeout.
  let arm: any;
  beforeAll(async () => {
    arm = (await compileMain()).arm;
  });

  it('deploys the five log search rules and the metric alert, scoped to the component and sent to the action group', () => {
    const t = alertsTemplate(arm);
    const rules = t.variables.rules as Array<{ name: string }>;
    expect(rules.map((r) => r.name)).toEqual(['rotation-failed', 'ring-critical', 'no-successor', 'fan-out-lag', 'rejected-growing']);
    const query = t.resources.queryRules;
    expect(query.type).toBe('Microsoft.Insights/scheduledQueryRules');
    expect(query.copy.count).toBe("[length(variables('rules'))]");
    expect(query.kind).toBe('LogAlert');
    expect(query.properties.scopes).toEqual(["[resourceId('Microsoft.Insights/components', parameters('appInsightsName'))]"]);
    expect(query.properties.actions.actionGroups).toBe("[variables('actionGroupIds')]");
    expect(query.properties.autoMitigate).toBe(true);
    const metric = t.resources.failedInvocations;
    expect(metric.type).toBe('Microsoft.Insights/metricAlerts');
    expect(metric.properties.criteria.allOf).toEqual([expect.objectContaining({ metricNamespace: 'microsoft.insights/components', metricName: 'requests/failed', operator: 'GreaterThan', threshold: 0 })]);
    expect(metric.properties.scopes).toEqual(query.properties.scopes);
    // Default: an action group with one e-mail receiver from the parameter, created only when no group is given.
    const group = t.resources.actionGroup;
    expect(group.condition).toBe("[variables('createActionGroup')]");
    expect(group.properties.emailReceivers).toEqual([{ name: 'operators', emailAddress: "[parameters('alertEmailAddress')]", useCommonAlertSchema: true }]);
    expect(t.variables.createActionGroup).toBe("[and(empty(parameters('actionGroupResourceId')), not(empty(parameters('alertEmailAddress'))))]");
    expect(t.variables.actionGroupIds).toContain("createArray(parameters('actionGroupResourceId'))");
  });

  it('main.bicep passes its action group and e-mail parameters and the component name known at compile time', () => {
    const call = arm.resources.alerts;
    expect(call.properties.parameters).toMatchObject({
      appInsightsName: { value: "[variables('names').appInsights]" },
      actionGroupResourceId: { value: "[parameters('alertActionGroupResourceId')]" },
      alertEmailAddress: { value: "[parameters('alertEmailAddress')]" },
    });
    expect(arm.parameters.alertEmailAddress).toMatchObject({ type: 'string', defaultValue: '' });
    expect(arm.parameters.alertActionGroupResourceId).toMatchObject({ type: 'string', defaultValue: '' });
  });

  it("every rule's KQL passes Kusto's analyzer and yields the measure and dimension columns the rule names", () => {
    const t = alertsTemplate(arm);
    for (const rule of t.variables.rules as Array<Record<string, unknown>>) {
      const query = armText(rule.query, t.variables);
      const { diagnostics, columns } = analyzeKql(query);
      expect(diagnostics, `${rule.name}: ${query}`).toEqual([]);
      expect(columns, String(rule.name)).toContain(rule.measure);
      if (rule.dimension) expect(columns, String(rule.name)).toContain(rule.dimension);
    }
  });

  it('reads the records the app writes: the telemetry prefix, its length, and event, metric and reason names that exist', () => {
    const t = alertsTemplate(arm);
    expect(t.variables.telemetry).toBe(`traces | where message startswith "${TELEMETRY_PREFIX}" | extend r = parse_json(substring(message, ${TELEMETRY_PREFIX.length}))`);
    const queries = (t.variables.rules as Array<Record<string, unknown>>).map((r) => armText(r.query, t.variables)).join('\n');
    // Names compared in the queries; each is produced by shared/app/telemetry or keyRingStatus (see the telemetry tests).
    const names = [...queries.matchAll(/== "([a-z_-]+)"|contains "([a-z_]+)"/g)].map((m) => m[1] ?? m[2]);
    expect(new Set(names)).toEqual(new Set(['rotation', 'failed', 'rotate-keyrings', 'health', 'ring', 'critical', 'rotation_due', 'metric', 'fan_out_lag', 'rejected_messages']));
  });
});
