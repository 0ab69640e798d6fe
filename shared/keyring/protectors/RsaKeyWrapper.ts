import { constants, createHash, randomBytes, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KeyWrapper } from './KeyWrapper';

const KID_PREFIX = 'urn:ringkeeper:rsa:sha256:';

/**
 * A local RSA key in the Key Vault wrap format (RSA-OAEP = OAEP with SHA-1, as JWA defines it).
 * The kid names the key by its public-key fingerprint so ASP.NET Core's IKeyEncryptionKeyResolver
 * (and ringkeeper) can tell which key wrapped a secret.
 */
export class RsaKeyWrapper implements KeyWrapper {
  readonly kid: string;
  private readonly publicKey: KeyObject;

  constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
    this.kid = rsaKid(this.publicKey);
  }

  /** Loads a PEM private key; with `generate`, creates a 3072-bit key (mode 0600) when the file is missing. */
  static fromFile(file: string, generate = false): RsaKeyWrapper {
    if (!existsSync(file)) {
      if (!generate) throw new Error(`RSA key file ${file} does not exist`);
      createKeyFile(file);
    }
    let key: KeyObject;
    try {
      key = createPrivateKey(readFileSync(file));
    } catch (err) {
      throw new Error(`RSA key file ${file} does not hold a PEM private key (${(err as Error).message.split('\n')[0]})`);
    }
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`RSA key file ${file} holds a ${key.asymmetricKeyType} key, not RSA`);
    return new RsaKeyWrapper(key);
  }

  async wrap(contentKey: Buffer): Promise<{ kid: string; wrapped: Buffer }> {
    const wrapped = publicEncrypt({ key: this.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, contentKey);
    return { kid: this.kid, wrapped };
  }

  async unwrap(kid: string, wrapped: Buffer): Promise<Buffer> {
    if (kid !== this.kid) throw new Error(`the secret was wrapped by ${kid}, not by the configured RSA key ${this.kid}`);
    return privateDecrypt({ key: this.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, wrapped);
  }
}

/**
 * Writes a new key to a temporary file and links it into place: concurrent first runs each
 * generate one, exactly one link wins, and every process then loads the winner's complete file
 * (never a half-written one, as a plain create-and-write would allow).
 */
function createKeyFile(file: string): void {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(temp, { force: true });
  }
}

export function rsaKid(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return KID_PREFIX + createHash('sha256').update(spki).digest('base64url');
}

export function isRsaKid(kid: string): boolean {
  return kid.startsWith(KID_PREFIX);
}
