import path from 'node:path';
import { DAY } from '../keyring/dotnetDate';
import { DEFAULT_POLICY, MIN_KEY_LIFETIME, MIN_RENEW_BEFORE } from '../keyring/policy/RotationPolicy';
import { ConfigError } from './ConfigError';
import type { CertificateReference, PolicyConfig, ProtectorConfig, RingConfig, RingkeeperConfig, StorageReference } from './types';

const RING_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
const KEY_VAULT_KEY_ID = /^https:\/\/[^/]+\/keys\/[A-Za-z0-9-]{1,127}(\/[A-Za-z0-9]{32})?\/?$/;
const KEY_VAULT_CERTIFICATE_ID = /^https:\/\/[^/]+\/certificates\/[A-Za-z0-9-]{1,127}(\/[A-Za-z0-9]{32})?\/?$/;
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/**
 * Validates the configuration document. `baseDir` resolves relative file paths (rsa key files).
 * Every error names the JSON path of the offending setting.
 */
export function parseConfig(raw: unknown, source: string, baseDir: string): RingkeeperConfig {
  const root = object(raw, source);
  allowOnly(root, source, ['storage', 'rings', 'cache', '$schema']);
  const storage = root.storage === undefined ? undefined : storageReference(root.storage, `${source}.storage`);
  if (!Array.isArray(root.rings)) throw new ConfigError(`${source}.rings`, 'must be an array of rings');
  const rings = root.rings.map((ring, i) => ringConfig(ring, `${source}.rings[${i}]`, storage, baseDir));
  const seen = new Set<string>();
  rings.forEach((ring, i) => {
    const key = ring.name.toLowerCase();
    if (seen.has(key)) throw new ConfigError(`${source}.rings[${i}].name`, `duplicate ring name "${ring.name}"`);
    seen.add(key);
  });
  return { storage, rings, cache: root.cache };
}

function ringConfig(raw: unknown, where: string, defaultStorage: StorageReference | undefined, baseDir: string): RingConfig {
  const ring = object(raw, where);
  allowOnly(ring, where, ['name', 'blobUri', 'storage', 'container', 'blob', 'protector', 'policy']);
  const name = string(ring.name, `${where}.name`);
  if (!RING_NAME.test(name)) throw new ConfigError(`${where}.name`, `"${name}" is not a valid ring name (letters, digits, "-", "_"; at most 63)`);
  const protector = protectorConfig(ring.protector, `${where}.protector`, baseDir);
  const policy = ring.policy === undefined ? undefined : policyConfig(ring.policy, `${where}.policy`);
  if (ring.blobUri !== undefined) {
    for (const k of ['storage', 'container', 'blob'] as const) {
      if (ring[k] !== undefined) throw new ConfigError(`${where}.${k}`, 'give either blobUri or storage + container + blob, not both');
    }
    const blobUri = string(ring.blobUri, `${where}.blobUri`);
    let url: URL;
    try {
      url = new URL(blobUri);
    } catch {
      throw new ConfigError(`${where}.blobUri`, `"${blobUri}" is not a URI`);
    }
    if (url.search) throw new ConfigError(`${where}.blobUri`, 'must not carry a query string (SAS tokens are not accepted; use an identity)');
    if (url.pathname.split('/').filter(Boolean).length < 2) throw new ConfigError(`${where}.blobUri`, 'must name a container and a blob: https://{account}.blob.core.windows.net/{container}/{blob}');
    return { name, blobUri, protector, policy };
  }
  const storage = ring.storage === undefined ? defaultStorage : storageReference(ring.storage, `${where}.storage`);
  if (!storage) throw new ConfigError(`${where}`, 'needs blobUri, or storage (here or at the top level) + container + blob');
  const container = string(ring.container, `${where}.container`);
  if (!CONTAINER_NAME.test(container)) throw new ConfigError(`${where}.container`, `"${container}" is not a valid container name (3-63 lowercase letters, digits and single hyphens)`);
  const blob = ring.blob === undefined ? 'keys.xml' : string(ring.blob, `${where}.blob`);
  return { name, storage, container, blob, protector, policy };
}

function protectorConfig(raw: unknown, where: string, baseDir: string): ProtectorConfig {
  const p = object(raw, where);
  const type = string(p.type, `${where}.type`);
  const decryption = (): { decryptionCertificates?: CertificateReference[] } => {
    if (p.decryptionCertificates === undefined) return {};
    if (!Array.isArray(p.decryptionCertificates)) throw new ConfigError(`${where}.decryptionCertificates`, 'must be an array of certificates');
    return {
      decryptionCertificates: p.decryptionCertificates.map((c, i) => certificateReference(object(c, `${where}.decryptionCertificates[${i}]`), `${where}.decryptionCertificates[${i}]`, baseDir, [])),
    };
  };
  switch (type) {
    case 'keyvault': {
      allowOnly(p, where, ['type', 'keyId', 'decryptionCertificates']);
      const keyId = string(p.keyId, `${where}.keyId`);
      if (!KEY_VAULT_KEY_ID.test(keyId)) throw new ConfigError(`${where}.keyId`, `"${keyId}" is not a Key Vault key URI (https://{vault}.vault.azure.net/keys/{name}[/{version}])`);
      return { type, keyId: keyId.replace(/\/$/, ''), ...decryption() };
    }
    case 'rsa': {
      allowOnly(p, where, ['type', 'keyFile', 'generate', 'decryptionCertificates']);
      const keyFile = path.resolve(baseDir, string(p.keyFile, `${where}.keyFile`));
      const generate = p.generate === undefined ? false : boolean(p.generate, `${where}.generate`);
      return { type, keyFile, generate, ...decryption() };
    }
    case 'certificate':
      return { type, ...certificateReference(p, where, baseDir, ['type', 'decryptionCertificates']), ...decryption() };
    case 'none': {
      allowOnly(p, where, ['type', 'allowUnencrypted', 'decryptionCertificates']);
      const allowUnencrypted = p.allowUnencrypted === undefined ? false : boolean(p.allowUnencrypted, `${where}.allowUnencrypted`);
      return { type, allowUnencrypted, ...decryption() };
    }
    default:
      throw new ConfigError(`${where}.type`, `unknown protector "${type}" (expected keyvault, rsa, certificate or none)`);
  }
}

/** Exactly one of pfxFile (+ passwordSetting), pemFile, keyVaultCertificateId; `extra` are the caller's own keys. */
function certificateReference(p: Record<string, unknown>, where: string, baseDir: string, extra: string[]): CertificateReference {
  const forms = ['pfxFile', 'pemFile', 'keyVaultCertificateId'].filter((k) => p[k] !== undefined);
  if (forms.length !== 1) throw new ConfigError(where, `needs exactly one of pfxFile, pemFile or keyVaultCertificateId${forms.length ? ` (found ${forms.join(', ')})` : ''}`);
  if (p.pfxFile !== undefined) {
    allowOnly(p, where, [...extra, 'pfxFile', 'passwordSetting']);
    const pfxFile = path.resolve(baseDir, string(p.pfxFile, `${where}.pfxFile`));
    if (p.passwordSetting === undefined) return { pfxFile };
    const passwordSetting = string(p.passwordSetting, `${where}.passwordSetting`);
    if (!SETTING_NAME.test(passwordSetting)) throw new ConfigError(`${where}.passwordSetting`, 'must name an app setting or environment variable that holds the password (never the password itself)');
    return { pfxFile, passwordSetting };
  }
  if (p.pemFile !== undefined) {
    allowOnly(p, where, [...extra, 'pemFile']);
    return { pemFile: path.resolve(baseDir, string(p.pemFile, `${where}.pemFile`)) };
  }
  allowOnly(p, where, [...extra, 'keyVaultCertificateId']);
  const id = string(p.keyVaultCertificateId, `${where}.keyVaultCertificateId`);
  if (!KEY_VAULT_CERTIFICATE_ID.test(id))
    throw new ConfigError(`${where}.keyVaultCertificateId`, `"${id}" is not a Key Vault certificate URI (https://{vault}.vault.azure.net/certificates/{name}[/{version}])`);
  return { keyVaultCertificateId: id.replace(/\/$/, '') };
}

function policyConfig(raw: unknown, where: string): PolicyConfig {
  const p = object(raw, where);
  allowOnly(p, where, ['keyLifetimeDays', 'renewBeforeDays', 'retentionDays']);
  const policy: PolicyConfig = {};
  if (p.keyLifetimeDays !== undefined) {
    policy.keyLifetimeDays = number(p.keyLifetimeDays, `${where}.keyLifetimeDays`);
    if (policy.keyLifetimeDays * DAY < MIN_KEY_LIFETIME) throw new ConfigError(`${where}.keyLifetimeDays`, `must be at least ${MIN_KEY_LIFETIME / DAY} (ASP.NET Core refuses shorter key lifetimes)`);
  }
  if (p.renewBeforeDays !== undefined) {
    policy.renewBeforeDays = number(p.renewBeforeDays, `${where}.renewBeforeDays`);
    if (policy.renewBeforeDays * DAY < MIN_RENEW_BEFORE) {
      throw new ConfigError(`${where}.renewBeforeDays`, `must be at least ${MIN_RENEW_BEFORE / DAY} (72 h: a successor must propagate before the default key expires)`);
    }
  }
  if ((policy.renewBeforeDays ?? DEFAULT_POLICY.renewBefore / DAY) >= (policy.keyLifetimeDays ?? DEFAULT_POLICY.keyLifetime / DAY)) {
    throw new ConfigError(`${where}.renewBeforeDays`, 'must be shorter than keyLifetimeDays');
  }
  if (p.retentionDays !== undefined) {
    policy.retentionDays = number(p.retentionDays, `${where}.retentionDays`);
    if (policy.retentionDays < 0) throw new ConfigError(`${where}.retentionDays`, 'must not be negative');
  }
  return policy;
}

function storageReference(raw: unknown, where: string): StorageReference {
  const s = object(raw, where);
  const forms = ['connectionString', 'connection', 'blobServiceUri'].filter((k) => s[k] !== undefined);
  if (s.connectionString !== undefined) {
    allowOnly(s, where, ['connectionString']);
    return { connectionString: string(s.connectionString, `${where}.connectionString`) };
  }
  if (s.connection !== undefined) {
    allowOnly(s, where, ['connection']);
    return { connection: string(s.connection, `${where}.connection`) };
  }
  allowOnly(s, where, ['blobServiceUri', 'queueServiceUri']);
  if (forms.length === 0 && s.queueServiceUri === undefined) {
    throw new ConfigError(where, 'needs one of connectionString, connection (an app setting name) or blobServiceUri/queueServiceUri');
  }
  return {
    blobServiceUri: s.blobServiceUri === undefined ? undefined : string(s.blobServiceUri, `${where}.blobServiceUri`),
    queueServiceUri: s.queueServiceUri === undefined ? undefined : string(s.queueServiceUri, `${where}.queueServiceUri`),
  };
}

function object(raw: unknown, where: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(where, 'must be an object');
  return raw as Record<string, unknown>;
}

function allowOnly(obj: Record<string, unknown>, where: string, keys: string[]): void {
  for (const k of Object.keys(obj)) {
    if (!keys.includes(k)) throw new ConfigError(`${where}.${k}`, `unknown setting (expected one of: ${keys.join(', ')})`);
  }
}

function string(raw: unknown, where: string): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ConfigError(where, 'must be a non-empty string');
  return raw;
}

function number(raw: unknown, where: string): number {
  if (typeof raw !== 'number' || !Number.isFinite(raw)) throw new ConfigError(where, 'must be a number');
  return raw;
}

function boolean(raw: unknown, where: string): boolean {
  if (typeof raw !== 'boolean') throw new ConfigError(where, 'must be true or false');
  return raw;
}
