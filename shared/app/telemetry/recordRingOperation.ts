import type { RingUpdateResult } from '../../keyring/updateKeyRing';
import { classifyError } from '../classifyError';
import type { RingOutcome } from '../keyRingOperations';
import { emitTelemetry, type TelemetryLog } from './emitTelemetry';
import { ringOperationRecord } from './operationRecords';
import type { RequestCounters } from './requestCounters';

/**
 * Runs one rotation or revocation of one ring and writes its telemetry record (duration, requests
 * sent, outcome); returns what `run` returned or rethrows what it threw. Operations sharing a set of
 * counters must run one after another for the counts to be theirs.
 */
export async function recordRingOperation(
  event: 'rotation' | 'revocation',
  trigger: 'timer' | 'http',
  ring: string,
  counters: RequestCounters,
  log: TelemetryLog,
  run: () => Promise<RingUpdateResult>,
): Promise<RingUpdateResult> {
  const before = counters.snapshot();
  const started = performance.now();
  let outcome: RingOutcome;
  try {
    const result = await run();
    outcome = { ok: true, result };
    return result;
  } catch (err) {
    outcome = { ok: false, ring, error: classifyError(err), cause: err };
    throw err;
  } finally {
    emitTelemetry(log, ringOperationRecord(event, trigger, outcome!, Math.round(performance.now() - started), counters.since(before)));
  }
}
