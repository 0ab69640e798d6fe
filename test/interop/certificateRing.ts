/** Interop helpers for the certificate and rewrap scenarios: re-point a ring's ringkeeper configuration at another protector. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { ProtectorConfig } from '../../shared/config/types';
import type { Ring } from './harness';

/** Rewrites the ring's ringkeeper.json with another protector (same storage, container and blob). */
export function configureProtector(ring: Ring, protector: ProtectorConfig): void {
  const config = JSON.parse(readFileSync(ring.configFile, 'utf8'));
  config.rings[0].protector = protector;
  writeFileSync(ring.configFile, JSON.stringify(config, null, 2));
}

const XMLENC = 'http://www.w3.org/2001/04/xmlenc#';
/** Key transports of the certificate-encrypted secrets in a ring, in document order. */
export const keyTransports = (xml: string) => [...xml.matchAll(/<EncryptedKey[^>]*><EncryptionMethod Algorithm="([^"]+)"/g)].map((m) => m[1]!.replace(XMLENC, ''));
/** The ring with every key's secret cut out: what re-wrapping must leave byte-identical. */
export const withoutSecrets = (xml: string) => xml.replace(/<encryptedSecret[\s\S]*?<\/encryptedSecret>|<masterKey[\s\S]*?<\/masterKey>/g, '§');
