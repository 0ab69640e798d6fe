import { formatTelemetry, type TelemetryRecord } from './TelemetryRecord';

/** The logging surface telemetry needs; InvocationContext fits (its lines become Application Insights traces). */
export interface TelemetryLog {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Writes one record as one log line through the Functions logging pipeline. Application Insights
 * stores it as a trace (severity from the level) whose message is the prefix and a JSON object:
 * the Node.js worker turns context.log arguments into the message only (it has no custom
 * properties: Azure/azure-functions-nodejs-library#227), so queries read the fields with
 * parse_json (see infra/modules/alerts.bicep).
 */
export function emitTelemetry(log: TelemetryLog, record: TelemetryRecord): void {
  const line = formatTelemetry(record);
  if (isFailure(record)) log.error(line);
  else if (record.event === 'health' && record.health !== 'ok') log.warn(line);
  else log.log(line);
}

function isFailure(record: TelemetryRecord): boolean {
  return (record.event !== 'health' && record.event !== 'metric' && record.outcome === 'failed') || (record.event === 'health' && record.health === 'critical');
}
