/**
 * HTTPS test double of the Azure Key Vault REST API (api-version 7.x and later), with real RSA and
 * the bearer challenge: keys (get key, wrapkey, unwrapkey: enough for CryptographyClient and
 * KeyClient.getKey) and certificates as CertificateClient + SecretClient read them (get
 * certificate [version], list certificate versions, get the certificate's secret = PFX or PEM).
 * Contract: https://learn.microsoft.com/rest/api/keyvault/keys,
 * https://learn.microsoft.com/rest/api/keyvault/certificates, https://learn.microsoft.com/rest/api/keyvault/secrets
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants, createHash, generateKeyPairSync, X509Certificate, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import type { AccessToken, TokenCredential } from '@azure/identity';
import type { CryptographyClientOptions } from '@azure/keyvault-keys';
import { makeTestCertificate } from './certificates';

const run = promisify(execFile);

export type KeyVaultDoubleOperation = 'get' | 'wrapkey' | 'unwrapkey' | 'getcertificate' | 'listcertificateversions' | 'getsecret';

/** One version of a Key Vault certificate: what the vault issued. */
export interface DoubleCertificateVersion {
  /** `https://…/certificates/{name}/{version}` */
  id: string;
  version: string;
  /** SHA-1 of the DER, upper-case hex (X509Certificate2.Thumbprint). */
  thumbprint: string;
  /** The certificate alone and the PKCS#12 the secret holds, for giving ASP.NET Core the same certificate. */
  certPem: string;
  pfx: Buffer;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/keys/dp/0a1b…/unwrapkey`. */
  path: string;
  operation: KeyVaultDoubleOperation | 'other';
  apiVersion: string | null;
  /** Whether a valid bearer token was presented (the token itself is never recorded). */
  authorized: boolean;
  status: number;
}

export interface Fault {
  /** 429 (with Retry-After), any 5xx, 401 or 403. */
  status: number;
  /** How many matching requests fail; default 1. */
  count?: number;
  /** For 429/503: value of Retry-After in seconds; default 0. */
  retryAfterSeconds?: number;
  /** Only requests for this operation fail; default any. */
  operation?: KeyVaultDoubleOperation;
}

export interface KeyVaultDoubleOptions {
  tenantId?: string;
  /** Bearer tokens the double accepts; default `['kv-double-token']`. */
  acceptedTokens?: string[];
  modulusLength?: number;
}

export interface KeyVaultDouble {
  /** `https://127.0.0.1:<port>` */
  readonly vaultUrl: string;
  /** PEM of the self-signed server certificate, for the client's `tlsOptions.ca`. */
  readonly caPem: string;
  readonly tenantId: string;
  readonly acceptedTokens: readonly string[];
  /** Every request in arrival order, including 401 challenge probes and injected faults. */
  readonly requests: RecordedRequest[];
  /** Creates the key, or a new version of an existing key (= Key Vault rotation). Returns the versioned kid. */
  createKey(name: string): string;
  /** Alias of createKey for an existing key: a new current version; old versions keep working. */
  rotateKey(name: string): string;
  /** Versionless id `https://…/keys/name`, or the versioned one when version is given. */
  keyId(name: string, version?: string): string;
  /** The private key behind a versioned kid, for tests that decrypt locally. */
  privateKey(kid: string): KeyObject;
  /**
   * Creates a certificate, or a new version of it (= renewal): a self-signed RSA-2048 certificate
   * whose secret is a PKCS#12 without password (`application/x-pkcs12`, Key Vault's default) or PEM.
   */
  createCertificate(name: string, contentType?: 'application/x-pkcs12' | 'application/x-pem-file'): DoubleCertificateVersion;
  /** Versionless id `https://…/certificates/name`. */
  certificateId(name: string): string;
  /** Queue a fault; faults apply to authorized requests, first matching fault first. */
  injectFault(fault: Fault): void;
  /** The next `count` successful unwrapkey calls answer 200 with a wrong key (same length): a vault that lies. */
  corruptUnwrap(count?: number): void;
  clearFaults(): void;
  resetRequests(): void;
  close(): Promise<void>;
}

interface CertificateVersion extends DoubleCertificateVersion {
  der: Buffer;
  secret: { value: string; contentType: string };
  created: number;
}

interface KeyVersion {
  version: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  created: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly kvCode: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Self-signed certificate for 127.0.0.1 via the openssl CLI (no extra dependency). */
async function selfSignedCert(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kv-double-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function oaepFor(alg: unknown): { padding: number; oaepHash?: string } {
  switch (alg) {
    case 'RSA-OAEP':
      return { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' };
    case 'RSA-OAEP-256':
      return { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
    case 'RSA1_5':
      return { padding: constants.RSA_PKCS1_PADDING };
    default:
      throw new HttpError(400, 'BadParameter', `Invalid algorithm: ${String(alg)}`);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startKeyVaultDouble(options: KeyVaultDoubleOptions = {}): Promise<KeyVaultDouble> {
  const tenantId = options.tenantId ?? '72f988bf-0000-4000-8000-00000000d0b1';
  const acceptedTokens = options.acceptedTokens ?? ['kv-double-token'];
  const modulusLength = options.modulusLength ?? 2048;
  const keys = new Map<string, KeyVersion[]>();
  const certificates = new Map<string, CertificateVersion[]>();
  const faults: Array<Required<Omit<Fault, 'operation'>> & { operation?: KeyVaultDoubleOperation }> = [];
  const requests: RecordedRequest[] = [];
  let corruptUnwraps = 0;
  const tls = await selfSignedCert();
  let vaultUrl = '';

  const keyId = (name: string, version?: string) => (version ? `${vaultUrl}/keys/${name}/${version}` : `${vaultUrl}/keys/${name}`);

  function findVersion(name: string, version: string): KeyVersion {
    const versions = keys.get(name);
    const found = version === '' ? versions?.at(-1) : versions?.find((v) => v.version === version);
    if (!found) {
      throw new HttpError(404, 'KeyNotFound', `A key with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault.`);
    }
    return found;
  }

  function keyBundle(name: string, v: KeyVersion) {
    const jwk = v.publicKey.export({ format: 'jwk' });
    const created = Math.floor(v.created / 1000);
    return {
      key: {
        kid: keyId(name, v.version),
        kty: 'RSA',
        key_ops: ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'],
        n: jwk.n,
        e: jwk.e,
      },
      attributes: {
        enabled: true,
        created,
        updated: created,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
        exportable: false,
      },
    };
  }

  function authorized(req: IncomingMessage): boolean {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return !!m && acceptedTokens.includes(m[1]!);
  }

  function takeFault(operation: RecordedRequest['operation']) {
    const i = faults.findIndex((f) => f.count > 0 && (!f.operation || f.operation === operation));
    if (i < 0) return undefined;
    const f = faults[i]!;
    f.count -= 1;
    if (f.count === 0) faults.splice(i, 1);
    return f;
  }

  function faultError(f: { status: number; retryAfterSeconds: number }): HttpError {
    const retryAfter: Record<string, string> = f.status === 429 || f.status === 503 ? { 'retry-after': String(f.retryAfterSeconds) } : {};
    if (f.status === 429) {
      return new HttpError(429, 'Throttled', 'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached', retryAfter);
    }
    if (f.status === 403) {
      return new HttpError(403, 'Forbidden', 'Caller is not authorized to perform action on resource.');
    }
    if (f.status === 401) {
      return new HttpError(401, 'Unauthorized', 'AKV10032: Invalid issuer.');
    }
    return new HttpError(f.status, f.status === 503 ? 'ServiceUnavailable' : 'InternalServerError', 'The service encountered an internal error.', retryAfter);
  }

  function findCertificate(name: string, version: string): CertificateVersion {
    const versions = certificates.get(name);
    const found = version === '' ? versions?.at(-1) : versions?.find((v) => v.version === version);
    if (!found) throw new HttpError(404, 'CertificateNotFound', `A certificate with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault.`);
    return found;
  }

  const certificateAttributes = (c: CertificateVersion) => {
    const created = Math.floor(c.created / 1000);
    return { enabled: true, nbf: created - 60, exp: created + 30 * 86_400, created, updated: created, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 };
  };

  function certificateBundle(name: string, c: CertificateVersion) {
    return {
      id: c.id,
      kid: `${vaultUrl}/keys/${name}/${c.version}`,
      sid: `${vaultUrl}/secrets/${name}/${c.version}`,
      x5t: Buffer.from(c.thumbprint, 'hex').toString('base64url'),
      cer: c.der.toString('base64'),
      attributes: certificateAttributes(c),
      policy: {
        id: `${vaultUrl}/certificates/${name}/policy`,
        key_props: { exportable: true, kty: 'RSA', key_size: 2048, reuse_key: false },
        secret_props: { contentType: c.secret.contentType },
        x509_props: { subject: `CN=${name}`, validity_months: 1 },
        issuer: { name: 'Self' },
        attributes: { enabled: true, created: Math.floor(c.created / 1000), updated: Math.floor(c.created / 1000) },
      },
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, record: RecordedRequest): Promise<unknown> {
    const url = new URL(req.url ?? '/', vaultUrl);
    // ['', 'keys', name, version?, op?]; an empty version (`/keys/n//wrapkey`) means the current one.
    const seg = url.pathname.split('/');
    const op = seg[4];
    if (req.method === 'GET' && seg[1] === 'keys' && seg[2] && seg.length <= 4) record.operation = 'get';
    else if (req.method === 'POST' && seg[1] === 'keys' && seg.length === 5 && (op === 'wrapkey' || op === 'unwrapkey')) record.operation = op;
    // ['', 'certificates', name, version | '' | 'versions'], ['', 'secrets', name, version]
    else if (req.method === 'GET' && seg[1] === 'certificates' && seg[2] && seg.length <= 4) record.operation = seg[3] === 'versions' ? 'listcertificateversions' : 'getcertificate';
    else if (req.method === 'GET' && seg[1] === 'secrets' && seg[2] && seg.length <= 4) record.operation = 'getsecret';

    if (!record.authorized) {
      res.setHeader('www-authenticate', `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="https://vault.azure.net"`);
      throw new HttpError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.');
    }
    if (!record.apiVersion) throw new HttpError(400, 'BadParameter', 'The api-version query parameter is required.');
    const fault = takeFault(record.operation);
    if (fault) throw faultError(fault);
    if (record.operation === 'other') throw new HttpError(404, 'NotFound', 'The requested resource does not exist.');

    const name = seg[2]!;
    if (record.operation === 'getcertificate') return certificateBundle(name, findCertificate(name, seg[3] ?? ''));
    if (record.operation === 'listcertificateversions') {
      const versions = certificates.get(name) ?? [];
      return { value: versions.map((c) => ({ id: c.id, x5t: Buffer.from(c.thumbprint, 'hex').toString('base64url'), attributes: certificateAttributes(c) })), nextLink: null };
    }
    if (record.operation === 'getsecret') {
      // A certificate's secret: only certificates are stored here (managed secrets).
      const c = findCertificate(name, seg[3] ?? '');
      return {
        value: c.secret.value,
        contentType: c.secret.contentType,
        id: `${vaultUrl}/secrets/${name}/${c.version}`,
        kid: `${vaultUrl}/keys/${name}/${c.version}`,
        managed: true,
        attributes: certificateAttributes(c),
      };
    }
    const v = findVersion(name, seg[3] ?? '');
    if (record.operation === 'get') return keyBundle(name, v);

    let body: { alg?: unknown; value?: unknown };
    try {
      body = JSON.parse((await readBody(req)).toString('utf8')) as typeof body;
    } catch {
      throw new HttpError(400, 'BadParameter', 'The request body is not valid JSON.');
    }
    if (typeof body.value !== 'string') throw new HttpError(400, 'BadParameter', 'Property value is required.');
    const input = Buffer.from(body.value, 'base64url');
    const padding = oaepFor(body.alg);
    let output: Buffer;
    try {
      output = record.operation === 'wrapkey' ? publicEncrypt({ key: v.publicKey, ...padding }, input) : privateDecrypt({ key: v.privateKey, ...padding }, input);
    } catch {
      throw new HttpError(400, 'BadParameter', 'Error decrypting the value.');
    }
    if (record.operation === 'unwrapkey' && corruptUnwraps > 0) {
      corruptUnwraps -= 1;
      output = Buffer.from(output.map((b) => b ^ 0x5a));
    }
    return { kid: keyId(name, v.version), value: output.toString('base64url') };
  }

  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      operation: 'other',
      apiVersion: url.searchParams.get('api-version'),
      authorized: authorized(req),
      status: 0,
    };
    requests.push(record);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      const text = JSON.stringify(payload);
      res.writeHead(status, {
        ...headers,
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'x-ms-keyvault-service-version': '1.9.0.0',
        'x-ms-request-id': randomBytes(16).toString('hex'),
      });
      res.end(text);
    };
    handle(req, res, record).then(
      (payload) => send(200, payload),
      (err: unknown) => {
        // Drain an unread body so keep-alive connections stay usable.
        req.resume();
        if (err instanceof HttpError) send(err.status, { error: { code: err.kvCode, message: err.message } }, err.headers);
        else send(500, { error: { code: 'InternalServerError', message: 'Test double failure.' } });
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  vaultUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const createKey = (name: string): string => {
    if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) throw new Error(`invalid key name: ${name}`);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
    const version = randomBytes(16).toString('hex');
    const versions = keys.get(name) ?? [];
    versions.push({ version, privateKey, publicKey, created: Date.now() });
    keys.set(name, versions);
    return keyId(name, version);
  };

  return {
    vaultUrl,
    caPem: tls.cert,
    tenantId,
    acceptedTokens,
    requests,
    createKey,
    rotateKey(name) {
      if (!keys.has(name)) throw new Error(`no key named ${name}`);
      return createKey(name);
    },
    keyId,
    createCertificate(name, contentType = 'application/x-pkcs12') {
      if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) throw new Error(`invalid certificate name: ${name}`);
      const made = makeTestCertificate(`kv-${name}`);
      const version = randomBytes(16).toString('hex');
      const der = Buffer.from(new X509Certificate(made.certPem).raw);
      const pfx = readFileSync(made.pfxFile);
      const c: CertificateVersion = {
        id: `${vaultUrl}/certificates/${name}/${version}`,
        version,
        thumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
        certPem: made.certPem,
        pfx,
        der,
        secret: contentType === 'application/x-pem-file' ? { value: made.keyPem + made.certPem, contentType } : { value: pfx.toString('base64'), contentType },
        created: Date.now(),
      };
      certificates.set(name, [...(certificates.get(name) ?? []), c]);
      return c;
    },
    certificateId: (name) => `${vaultUrl}/certificates/${name}`,
    privateKey(kid) {
      const m = /\/keys\/([^/]+)\/([^/]+)$/.exec(new URL(kid).pathname);
      if (!m) throw new Error(`not a versioned kid: ${kid}`);
      return findVersion(m[1]!, m[2]!).privateKey;
    },
    injectFault(fault) {
      faults.push({ status: fault.status, count: fault.count ?? 1, retryAfterSeconds: fault.retryAfterSeconds ?? 0, operation: fault.operation });
    },
    clearFaults() {
      faults.length = 0;
      corruptUnwraps = 0;
    },
    corruptUnwrap(count = 1) {
      corruptUnwraps += count;
    },
    resetRequests() {
      requests.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Clients keep connections alive; end them so close() returns promptly.
        server.closeAllConnections();
      });
    },
  };
}

/** What a ring needs to reach the double: a token it accepts, its TLS certificate, quick retries. */
export function keyVaultAccess(kv: KeyVaultDouble): { credential: TokenCredential; keyVaultClientOptions: CryptographyClientOptions } {
  const token = kv.acceptedTokens[0]!;
  return {
    credential: { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) },
    keyVaultClientOptions: { tlsOptions: { ca: kv.caPem }, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 1, retryDelayInMs: 5 } },
  };
}
