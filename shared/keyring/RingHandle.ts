import type { PolicySettings } from './policy/RotationPolicy';
import type { KeyProtector } from './protectors/KeyProtector';
import type { BlobKeyRingRepository } from './repository/BlobKeyRingRepository';

/**
 * One ring as the key ring use cases need it (as IXmlRepository ships beside XmlKeyManager);
 * shared/app/openRings builds it from the configuration.
 */
export interface RingHandle {
  readonly name: string;
  readonly repository: BlobKeyRingRepository;
  readonly policy: PolicySettings;
  readonly protectorType: KeyProtector['type'];
  /** Built on first use, so a run that writes nothing never loads keys or contacts Key Vault. */
  protector(): KeyProtector;
}
