/**
 * KQL checked by Kusto's own parser and semantic analyzer (Kusto.Language, the engine behind the
 * portal's editor, compiled to JavaScript as @kusto/language-service-next) against the columns of
 * the Application Insights tables the alert rules read.
 */
import { createRequire } from 'node:module';

const load = createRequire(__filename);
load('@kusto/language-service-next/bridge.min.js');
load('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
// The bridge defines a global namespace; it ships no module typings.
const K = (globalThis as any).Kusto.Language;
const S = K.Symbols;

/** Columns of the Application Insights tables as a scheduled query rule on the component sees them. */
const TABLES: Record<string, Array<[string, string]>> = {
  traces: [['timestamp', 'DateTime'], ['message', 'String'], ['severityLevel', 'Int'], ['itemType', 'String'], ['customDimensions', 'Dynamic'], ['operation_Name', 'String'], ['cloud_RoleName', 'String']],
  requests: [['timestamp', 'DateTime'], ['name', 'String'], ['success', 'Bool'], ['resultCode', 'String'], ['duration', 'Real'], ['operation_Name', 'String'], ['cloud_RoleName', 'String'], ['customDimensions', 'Dynamic']],
};

const globals = K.GlobalState.Default.WithDatabase(
  new S.DatabaseSymbol.ctor(
    'appinsights',
    Object.entries(TABLES).map(([name, columns]) => new S.TableSymbol.$ctor4(name, columns.map(([c, t]) => new S.ColumnSymbol(c, S.ScalarTypes[t], null, null, null, null)))),
  ),
);

export interface KqlAnalysis {
  /** Errors and warnings, `Severity: message @offset`. */
  diagnostics: string[];
  /** Output columns of the query's result. */
  columns: string[];
}

export function analyzeKql(query: string): KqlAnalysis {
  const code = K.KustoCode.ParseAndAnalyze(query, globals);
  const list = code.GetDiagnostics();
  const diagnostics: string[] = [];
  for (let i = 0; i < list.Count; i++) {
    const d = list.getItem(i);
    diagnostics.push(`${d.Severity}: ${d.Message} @${d.Start}`);
  }
  const result = code.ResultType;
  const columns: string[] = [];
  if (result && result.Columns) for (let i = 0; i < result.Columns.Count; i++) columns.push(result.Columns.getItem(i).Name);
  return { diagnostics, columns };
}
