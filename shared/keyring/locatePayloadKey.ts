import { formatDotnetDate } from './dotnetDate';
import { normalizeGuid } from './guid';
import { revocationTest } from './KeyRing';
import type { KeyRingDocument } from './KeyRingDocument';
import { resolveDefaultKey } from './policy/DefaultKeyResolver';
import { resolvableKeys } from './policy/RotationPolicy';
import { attribute } from './xml/XmlNode';

/** What one ring says about the key a payload names. Dates only, never key material. */
export interface RingKeyState {
  ring: string;
  /** present: ASP.NET Core reads the key; unreadable: the element is there but skipped (its id or dates do not parse); absent. */
  state: 'present' | 'unreadable' | 'absent';
  creationDate?: string;
  activationDate?: string;
  expirationDate?: string;
  revoked?: boolean;
  expired?: boolean;
  notYetActive?: boolean;
  /** The key this ring's apps protect with now. */
  isDefault?: boolean;
  problem?: string;
}

export interface PayloadKeyLocation {
  keyId: string;
  /** Rings whose apps unprotect the payload (present and not revoked). */
  unprotectsIn: string[];
  rings: RingKeyState[];
  /** Operator sentences: where the payload comes from and what each ring does with it. */
  findings: string[];
}

/** Which configured rings hold the key a payload names, and in what state (pure: rings already read). */
export function locatePayloadKey(keyId: string, rings: readonly { name: string; document: KeyRingDocument }[], now: number): PayloadKeyLocation {
  const states = rings.map(({ name, document }) => ringState(keyId, name, document, now));
  const present = states.filter((s) => s.state === 'present');
  const absent = states.filter((s) => s.state !== 'present');
  const findings: string[] = [];
  const list = (xs: RingKeyState[]) => xs.map((s) => s.ring).join(', ');
  const rs = (xs: RingKeyState[]) => (xs.length === 1 ? 'ring' : 'rings');

  if (present.length === 0) {
    findings.push(
      `in no ring (${rings.length === 0 ? 'none configured' : `not in ${rs(states)} ${list(states)}`}): issued by an instance that generated its own key, ` +
        'or by an app on a ring not configured here (ASP.NET Core: key_not_found)',
    );
  } else if (absent.length > 0) {
    const slot = present.length === 1 ? `the ${present[0]!.ring} slot` : `an app on ${rs(present)} ${list(present)}`;
    findings.push(`not in ${rs(absent)} ${list(absent)}, present in ${rs(present)} ${list(present)}: this payload was issued by ${slot}`);
  } else {
    findings.push(`present in ${rings.length === 1 ? 'ring' : 'every configured ring:'} ${list(present)}`);
  }
  for (const s of states) {
    if (s.state === 'unreadable') findings.push(`ring ${s.ring} has an element for this key that ASP.NET Core skips (${s.problem}): to apps there it is not found`);
    if (s.state !== 'present') continue;
    if (s.revoked) findings.push(`revoked in ring ${s.ring}: apps there refuse it (key_revoked)`);
    if (s.expired) findings.push(`expired in ring ${s.ring} since ${s.expirationDate}: apps there still unprotect with it but no longer protect with it`);
    if (s.notYetActive) findings.push(`not yet active in ring ${s.ring} (activates ${s.activationDate}): apps there already unprotect with it`);
  }
  return { keyId, unprotectsIn: present.filter((s) => !s.revoked).map((s) => s.ring), rings: states, findings };
}

function ringState(keyId: string, ring: string, document: KeyRingDocument, now: number): RingKeyState {
  const key = document.ring.keys.find((k) => k.id === keyId);
  if (!key) {
    const skipped = document.unreadableKeys.find((u) => normalizeGuid(attribute(u.element, 'id') ?? '') === keyId);
    return skipped ? { ring, state: 'unreadable', problem: skipped.problem } : { ring, state: 'absent' };
  }
  const resolution = resolveDefaultKey(resolvableKeys(document.ring), now);
  return {
    ring,
    state: 'present',
    creationDate: formatDotnetDate(key.creationDate),
    activationDate: formatDotnetDate(key.activationDate),
    expirationDate: formatDotnetDate(key.expirationDate),
    revoked: revocationTest(document.ring)(key),
    expired: key.expirationDate <= now,
    notYetActive: key.activationDate > now,
    isDefault: (resolution.defaultKey ?? resolution.fallbackKey)?.id === keyId,
  };
}
