import type { RingHandle } from './RingHandle';
import { AbortError } from '../async/AbortError';
import { delay } from '../async/delay';
import type { KeyRing } from './KeyRing';
import { KeyRingDocument } from './KeyRingDocument';
import { revocationXml } from './KeyXmlWriter';
import { provenKeyXml } from './provenKeyXml';
import { formatDotnetDate } from './dotnetDate';
import type { NewKeyReason, RingPlan } from './policy/RotationPolicy';
import { ConcurrencyConflict } from './repository/BlobKeyRingRepository';
import { KekMismatchError, ringKek } from './protectors/kekIdentity';

export type RingAction = 'none' | NewKeyReason | 'revoked' | 'retention';

export interface RingUpdateResult {
  ring: string;
  action: RingAction;
  newKeyId: string | null;
  newKeys: { id: string; reason: NewKeyReason; activationDate: string; expirationDate: string }[];
  revokedKeyIds: string[];
  deletedKeyIds: string[];
  etag: string | null;
  warnings: string[];
  attempts: number;
  /** True when the plan was only printed: nothing was written, no protector was used. */
  dryRun: boolean;
}

export interface UpdateOptions {
  now?: () => number;
  maxAttempts?: number;
  /** Back-off before attempt n (n >= 2); jittered. Injectable so tests need not sleep; should honour the signal. */
  delay?: (attempt: number, options: { abortSignal?: AbortSignal }) => Promise<void>;
  /** Stops before the next read, plan or write (a host shutdown); a write under way completes. Rejects with an AbortError. */
  abortSignal?: AbortSignal;
  /** Plan and report without writing (drills). */
  dryRun?: boolean;
  /** Write new keys under a key encryption key other than the ring's newest key's. */
  allowNewKek?: boolean;
  /** Read a blob holding only a UTF-8 BOM as an empty ring (repair's explicit decision; apps cannot read it). */
  bomOnlyAsEmpty?: boolean;
}

/** Lost the optimistic-concurrency race on every attempt. */
export class RingConflictError extends Error {
  readonly code = 'conflict';
  constructor(ring: string, attempts: number) {
    super(`ring ${ring}: another writer changed the key ring on each of ${attempts} attempts`);
    this.name = 'RingConflictError';
  }
}

const DEFAULT_ATTEMPTS = 5;

/**
 * Read with ETag -> plan (pure) -> conditional write; on a conflict re-read and re-plan. A plan with
 * no change writes nothing and calls no protector: one storage request in all.
 */
export async function updateKeyRing(handle: RingHandle, planFor: (ring: KeyRing, now: number) => RingPlan, options: UpdateOptions = {}): Promise<RingUpdateResult> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_ATTEMPTS;
  const backOff = options.delay ?? jitteredDelay;
  const { abortSignal } = options;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await backOff(attempt, { abortSignal });
    AbortError.throwIfAborted(abortSignal);
    const stored = await handle.repository.read();
    const document = KeyRingDocument.parse(stored.content, { bomOnlyAsEmpty: options.bomOnlyAsEmpty });
    const now = (options.now ?? Date.now)();
    const plan = planFor(document.ring, now);
    for (const key of document.unreadableKeys) plan.warnings.push(`a key ASP.NET Core skips is kept unused: ${key.problem}`);
    if (plan.changes.length === 0 || options.dryRun) return result(handle.name, plan, stored.etag ?? null, attempt, !!options.dryRun);
    if (plan.changes.some((c) => c.kind === 'createKey') && !options.allowNewKek) assertSameKek(handle, document, now);
    await apply(handle, document, plan);
    const content = document.serialize();
    assertSafeToWrite(handle, document, content, plan);
    AbortError.throwIfAborted(abortSignal);
    try {
      const etag = await handle.repository.write(content, stored.etag);
      return result(handle.name, plan, etag, attempt, false);
    } catch (err) {
      if (!(err instanceof ConcurrencyConflict)) throw err;
    }
  }
  throw new RingConflictError(handle.name, maxAttempts);
}

async function apply(handle: RingHandle, document: KeyRingDocument, plan: RingPlan): Promise<void> {
  for (const change of plan.changes) {
    switch (change.kind) {
      case 'createKey':
        // The canary: nothing is written unless the new key demonstrably wraps, unwraps and works.
        document.append(await provenKeyXml(handle.name, handle.protector(), change.id, change.dates));
        break;
      case 'revoke':
        document.append(revocationXml(change.keyId, change.revocationDate, change.reason));
        break;
      case 'deleteKey':
        document.delete(change.key.element);
        break;
      case 'deleteRevocation':
        document.delete(change.revocation.element);
        break;
    }
  }
}

/**
 * Last line of defence before a write: the new content must parse, hold every element that was not
 * deliberately deleted (known or not), keep every key, hold the planned keys, and carry no
 * plaintext master key unless the ring's protector is `none`.
 */
function assertSafeToWrite(handle: RingHandle, document: KeyRingDocument, content: Buffer, plan: RingPlan): void {
  const reparsed = KeyRingDocument.parse(content);
  if (reparsed.elementCount !== document.elementCount) {
    throw new Error(`ring ${handle.name}: refusing to write: expected ${document.elementCount} elements, the new content holds ${reparsed.elementCount}`);
  }
  const before = document.ring;
  const after = reparsed.ring;
  const deleted = new Set(plan.changes.flatMap((c) => (c.kind === 'deleteKey' ? [c.key.id] : [])));
  const ids = new Set(after.keys.map((k) => k.id));
  for (const key of before.keys) {
    if (!deleted.has(key.id) && !ids.has(key.id)) throw new Error(`ring ${handle.name}: refusing to write: key {${key.id}} would be lost`);
  }
  for (const change of plan.changes) {
    if (change.kind !== 'createKey') continue;
    const key = after.keys.find((k) => k.id === change.id);
    if (!key) throw new Error(`ring ${handle.name}: refusing to write: new key {${change.id}} is missing`);
    if (handle.protectorType !== 'none' && key.protection === 'none') {
      throw new Error(`ring ${handle.name}: refusing to write: new key {${change.id}} is not encrypted although the ring's protector is ${handle.protectorType}`);
    }
  }
}

/** A new key must be wrapped by the KEK the ring's readers already use (checked before any protector call). */
function assertSameKek(handle: RingHandle, document: KeyRingDocument, now: number): void {
  const existing = ringKek(document.ring.keys, now);
  if (!existing) return;
  const configured = handle.protector().kek;
  if (configured !== existing.kek) throw new KekMismatchError(handle.name, configured, existing);
}

function result(ring: string, plan: RingPlan, etag: string | null, attempts: number, dryRun: boolean): RingUpdateResult {
  const newKeys = plan.changes.flatMap((c) =>
    c.kind === 'createKey' ? [{ id: c.id, reason: c.reason, activationDate: formatDotnetDate(c.dates.activationDate), expirationDate: formatDotnetDate(c.dates.expirationDate) }] : [],
  );
  const revokedKeyIds = plan.changes.flatMap((c) => (c.kind === 'revoke' ? [c.keyId] : []));
  const deletedKeyIds = plan.changes.flatMap((c) => (c.kind === 'deleteKey' ? [c.key.id] : []));
  const action: RingAction = revokedKeyIds.length > 0 ? 'revoked' : (newKeys[0]?.reason ?? (deletedKeyIds.length > 0 ? 'retention' : 'none'));
  return { ring, action, newKeyId: newKeys[0]?.id ?? null, newKeys, revokedKeyIds, deletedKeyIds, etag, warnings: plan.warnings, attempts, dryRun };
}

export function jitteredDelay(attempt: number, options: { abortSignal?: AbortSignal } = {}): Promise<void> {
  // As AzureBlobXmlRepository: about 200 ms, jittered so racing writers spread out; grows per attempt.
  return delay(200 * (attempt - 1) * (0.8 + Math.random() * 0.4), options);
}
