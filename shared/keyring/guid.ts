import { randomUUID } from 'node:crypto';

const D = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const GUID_FORMATS = new RegExp(`^(?:(${D})|\\{(${D})\\}|\\((${D})\\)|([0-9a-fA-F]{32}))$`);

/** Lowercase "D" form of a GUID written as Guid.Parse accepts it (D, B, P or N); undefined otherwise. */
export function normalizeGuid(text: string): string | undefined {
  const m = GUID_FORMATS.exec(text.trim());
  if (!m) return undefined;
  const hex = (m[1] ?? m[2] ?? m[3] ?? m[4]!).replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A new key id: random (version 4) GUID in lowercase D format, as XmlKeyManager writes it. */
export function newKeyId(): string {
  return randomUUID();
}
